import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import { AuditKind, type AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { type ConditionalAccess, isMultiFactor } from '../identity/conditional-access.js';
import { IdentityError } from '../identity/errors.js';
import { FederationError, type PendingUpstreamLogin, type UpstreamIdp } from '../identity/federation.js';
import { newTotpSecret, totpUri } from '../identity/totp.js';
import type { LoginFailure, UserDirectory } from '../identity/users.js';
import type { Logger } from '../log/index.js';
import type { ConsentStore, UserRecord } from '../storage/index.js';
import type { Csrf } from './csrf.js';
import { describePermissions } from './describe-permissions.js';
import { consentPage } from './pages/consent.js';
import { html, pageResponse } from './pages/html.js';
import { enrollPage, loginPage, mfaPage } from './pages/login.js';
import { messagePage } from './pages/message.js';
import { boundedQuery, readBoundedForm } from './bounded-input.js';
import { ACCOUNT_CLIENT_ID } from './constants.js';
import { MFA_ACR } from './browser-session.js';

export type NodeEnv = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };
type Ctx = Context<NodeEnv>;

export interface InteractionDeps {
  provider(): Provider;
  config: LoadedConfig;
  users: UserDirectory;
  access: ConditionalAccess;
  consents: ConsentStore;
  audit: AuditLog;
  log: Logger;
  csrf: Csrf;
  upstream: UpstreamIdp | undefined;
  sessionLimits: Map<string, number>;
  clientIp(c: Context): string | undefined;
}

interface Pending {
  stage: 'mfa' | 'enroll';
  sub: string;
  amr: string[];
  secret?: string;
  expiresAt: number;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const PENDING_TTL_MS = 10 * 60_000;
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

function node(c: Ctx): { req: IncomingMessage; res: ServerResponse } {
  const req = c.env?.incoming;
  const res = c.env?.outgoing;
  if (!req || !res) throw new Error('the sign-in pages need the node HTTP server (c.env.incoming/outgoing)');
  return { req, res };
}

const expired = () =>
  messagePage('Sign-in expired', 'This sign-in page has expired or was opened in another browser. Go back to the application and start again.', {
    status: 400,
    code: 'interaction.expired',
  });

function lockedMessage(failure: LoginFailure): string {
  const minutes = Math.max(1, Math.ceil((failure.retryAfterMs ?? 0) / 60_000));
  return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * The pages oidc-provider sends the browser to (`/interaction/:uid`): password, TOTP and its
 * enrollment, single sign-on, conditional access, and consent. The agent never sees any of
 * this: it only ever learns the authorization URL and, at the end, gets a code.
 */
export function interactionRoutes(deps: InteractionDeps): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();
  const pending = new Map<string, Pending>();
  const upstreamPending = new Map<string, PendingUpstreamLogin & { uid: string; expiresAt: number }>();
  const publicOrigin = new URL(deps.config.publicUrl).origin;
  const mfaValues = ['otp', 'mfa', ...(deps.config.identity.upstream?.mfaAmrValues ?? [])];

  const sweep = () => {
    const now = Date.now();
    for (const [k, v] of pending) if (v.expiresAt <= now) pending.delete(k);
    for (const [k, v] of upstreamPending) if (v.expiresAt <= now) upstreamPending.delete(k);
  };

  async function details(c: Ctx, uid: string): Promise<Details | undefined> {
    // Interaction ids are oidc-provider's (21 URL-safe characters): anything else is no interaction.
    if (!INTERACTION_UID.test(uid)) return undefined;
    const { req, res } = node(c);
    try {
      const d = await deps.provider().interactionDetails(req, res);
      return d.uid === uid ? d : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The posted form: every field bounded first (an oversized one is refused with a page, and
   * nothing of it is checked, hashed, logged or audited), then CSRF: the form token bound to the
   * interaction, and (when sent) our own Origin.
   */
  async function form(c: Ctx, uid: string): Promise<Record<string, string> | Response> {
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== publicOrigin) return csrfRefused();
    const body = await readBoundedForm(c);
    if (!body.ok) return inputRefused(body);
    return deps.csrf.verify(`interaction:${uid}`, body.fields.csrf) ? body.fields : csrfRefused();
  }

  const csrfRefused = () =>
    messagePage('Request refused', 'This form was not submitted from the Gatehouse sign-in page. Go back to the application and start again.', {
      status: 403,
      code: 'interaction.csrf',
    });
  const inputRefused = (refusal: { status: number; code: string; message: string }) =>
    messagePage('Request refused', `${refusal.message} Go back to the application and start again.`, { status: refusal.status, code: refusal.code });

  async function clientName(clientId: string): Promise<{ name: string; native: boolean }> {
    const client = await deps
      .provider()
      .Client.find(clientId)
      .catch(() => undefined);
    return { name: (client?.clientName as string | undefined) ?? clientId, native: client?.applicationType === 'native' };
  }

  /** The request asks for a second factor now (`acr_values`, with `prompt=login`: a step-up). */
  const stepUp = (d: Details): boolean => ((d.params.acr_values as string | undefined) ?? '').split(' ').includes(MFA_ACR);
  /** Who is signed in already, when this sign-in is a step-up: only they can confirm. */
  const stepUpSubject = (d: Details): string | undefined => (stepUp(d) ? (d.session?.accountId as string | undefined) : undefined);

  function ssoLink(uid: string) {
    return deps.upstream ? { name: deps.upstream.config.name, href: `/interaction/${uid}/sso` } : undefined;
  }

  async function renderLogin(_c: Ctx, d: Details, extra: { error?: string; username?: string; status?: number } = {}): Promise<Response> {
    const clientId = d.params.client_id as string;
    return loginPage({
      action: `/interaction/${d.uid}/login`,
      csrf: deps.csrf.token(`interaction:${d.uid}`),
      clientName: clientId === ACCOUNT_CLIENT_ID ? undefined : (await clientName(clientId)).name,
      stepUp: stepUp(d),
      localAccounts: deps.config.identity.localAccounts,
      sso: ssoLink(d.uid),
      username: stepUpSubject(d),
      ...extra,
    });
  }

  function refusalPage(uid: string, title: string, message: string, code: string): Response {
    return pageResponse(
      title,
      html`<p role="alert">${message}</p><p class="note">Reference: <code>${code}</code></p>
<form method="post" action="/interaction/${uid}/abort"><input type="hidden" name="csrf" value="${deps.csrf.token(`interaction:${uid}`)}"><button type="submit">Return to the application</button></form>`,
      403,
    );
  }

  /** Last step of every sign-in: conditional access, then the login result for oidc-provider. */
  async function completeLogin(c: Ctx, d: Details, user: UserRecord, amr: string[], via: 'password' | 'sso'): Promise<Response> {
    const ip = deps.clientIp(c);
    const now = Date.now();
    const refusal =
      deps.access.check(user.groups, { ip, mfa: isMultiFactor(amr, mfaValues), authTime: now }, now) ??
      // A step-up that did not produce a second factor (an IdP that reports none) is not one.
      (stepUp(d) && !isMultiFactor(amr, mfaValues)
        ? { code: 'identity.mfa_required' as const, message: 'This page needs a sign-in with a second factor, and none was presented.' }
        : undefined);
    const actor = { sub: user.name, groups: user.groups, ip, client: d.params.client_id as string };
    if (refusal) {
      void deps.audit.append(
        AuditKind.ConditionalAccessDenied,
        { actor, via, outcome: { status: 'denied', code: refusal.code, message: refusal.message } },
        { durable: false },
      );
      pending.delete(d.uid);
      return refusalPage(d.uid, 'Access refused', refusal.message, refusal.code);
    }
    pending.delete(d.uid);
    await deps.users.recordLogin(user.name);
    deps.sessionLimits.set(user.name, deps.access.requirements(user.groups).maxSessionAgeMs ?? deps.config.identity.sessionMaxAge);
    await deps.audit.append(AuditKind.Login, { actor, via, amr, outcome: { status: 'ok' } }, { durable: true });
    const { req, res } = node(c);
    const returnTo = await deps
      .provider()
      .interactionResult(req, res, { login: { accountId: user.name, amr, remember: true, ts: Math.floor(now / 1000) } }, { mergeWithLastSubmission: false });
    return c.redirect(returnTo, 303);
  }

  async function loginFailed(c: Ctx, d: Details, name: string, failure: LoginFailure, step: 'password' | 'totp'): Promise<Response> {
    // Whatever was typed as a user name is recorded only if it names a user: people type
    // their password into the wrong field, and the audit log must never hold one.
    const known = name !== '' && (await deps.users.get(name)) !== undefined;
    void deps.audit.append(
      AuditKind.LoginFailed,
      {
        actor: { sub: known ? name : '(unknown user)', ip: deps.clientIp(c), client: d.params.client_id as string },
        step,
        outcome: { status: 'denied', code: `identity.${failure.reason}` },
      },
      { durable: false },
    );
    const error =
      failure.reason === 'locked'
        ? lockedMessage(failure)
        : failure.reason === 'disabled'
          ? 'This account is disabled. Contact your administrator.'
          : step === 'password'
            ? 'Wrong username or password.'
            : 'That code is not valid. Enter the current code from your app.';
    const status = failure.reason === 'locked' ? 429 : 401;
    if (step === 'password') return renderLogin(c, d, { error, username: name, status });
    const state = pending.get(d.uid);
    if (state?.stage === 'enroll')
      return enrollPage({
        action: `/interaction/${d.uid}/enroll`,
        csrf: deps.csrf.token(`interaction:${d.uid}`),
        secret: state.secret as string,
        uri: totpUri(state.secret as string, state.sub, deps.config.identity.mfaIssuer),
        error,
        status,
      });
    return mfaPage({ action: `/interaction/${d.uid}/mfa`, csrf: deps.csrf.token(`interaction:${d.uid}`), error, status });
  }

  app.get('/interaction/:uid', async (c) => {
    sweep();
    const uid = c.req.param('uid');
    const d = await details(c, uid);
    if (!d) return expired();
    if (d.prompt.name === 'login') {
      const state = pending.get(uid);
      const csrf = deps.csrf.token(`interaction:${uid}`);
      if (state?.stage === 'mfa') return mfaPage({ action: `/interaction/${uid}/mfa`, csrf });
      if (state?.stage === 'enroll')
        return enrollPage({
          action: `/interaction/${uid}/enroll`,
          csrf,
          secret: state.secret as string,
          uri: totpUri(state.secret as string, state.sub, deps.config.identity.mfaIssuer),
        });
      return renderLogin(c, d);
    }
    if (d.prompt.name === 'consent') {
      const clientId = d.params.client_id as string;
      const { name, native } = await clientName(clientId);
      const scopes = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean);
      const rar = d.params.authorization_details ? (JSON.parse(d.params.authorization_details as string) as unknown[]) : undefined;
      return consentPage({
        action: `/interaction/${uid}/consent`,
        csrf: deps.csrf.token(`interaction:${uid}`),
        user: d.session?.accountId as string,
        clientName: name,
        clientId,
        redirectHost: URL.parse(d.params.redirect_uri as string)?.host ?? '(none)',
        permissions: describePermissions(scopes, rar),
        native,
      });
    }
    return messagePage('Cannot continue', 'This sign-in needs a step Gatehouse does not support.', { status: 400, code: `interaction.${d.prompt.name}` });
  });

  app.post('/interaction/:uid/login', async (c) => {
    const uid = c.req.param('uid');
    const d = await details(c, uid);
    if (d?.prompt.name !== 'login') return expired();
    const fields = await form(c, uid);
    if (fields instanceof Response) return fields;
    if (!deps.config.identity.localAccounts)
      return messagePage('Not available', 'Password sign-in is turned off; use single sign-on.', { status: 400, code: 'identity.local_accounts_disabled' });
    const name = (fields.username ?? '').trim();
    // A step-up confirms the person already signed in; signing in as someone else is a sign-out first.
    const confirming = stepUpSubject(d);
    if (confirming !== undefined && name !== confirming) {
      // Whatever was typed is not recorded (it may be a password typed into the wrong field).
      void deps.audit.append(
        AuditKind.LoginFailed,
        {
          actor: { sub: confirming, ip: deps.clientIp(c), client: d.params.client_id as string },
          step: 'password',
          outcome: { status: 'denied', code: 'identity.step_up_other_user' },
        },
        { durable: false },
      );
      return renderLogin(c, d, { error: `You are signed in as ${confirming}: confirm with that account.`, status: 401 });
    }
    const result = await deps.users.checkPassword(name, fields.password ?? '');
    if (!result.ok) return loginFailed(c, d, name, result, 'password');
    const user = result.user;
    if (user.totpSecret) {
      pending.set(uid, { stage: 'mfa', sub: user.name, amr: ['pwd'], expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(`/interaction/${uid}`, 303);
    }
    if (deps.access.requirements(user.groups).mfa || stepUp(d)) {
      pending.set(uid, { stage: 'enroll', sub: user.name, amr: ['pwd'], secret: newTotpSecret(), expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(`/interaction/${uid}`, 303);
    }
    return completeLogin(c, d, user, ['pwd'], 'password');
  });

  const totpStep = (stage: 'mfa' | 'enroll') => async (c: Ctx) => {
    const uid = c.req.param('uid') as string;
    const d = await details(c, uid);
    const state = pending.get(uid);
    if (d?.prompt.name !== 'login' || !state || state.stage !== stage || state.expiresAt <= Date.now()) return expired();
    const fields = await form(c, uid);
    if (fields instanceof Response) return fields;
    const user = await deps.users.get(state.sub);
    if (!user) return expired();
    const code = fields.code ?? '';
    const result = stage === 'mfa' ? await deps.users.checkTotp(user, code) : await deps.users.enrollTotp(user, state.secret as string, code);
    if (!result.ok) return loginFailed(c, d, user.name, result, 'totp');
    if (stage === 'enroll') void deps.audit.append(AuditKind.MfaEnrolled, { actor: { sub: user.name, ip: deps.clientIp(c) } }, { durable: false });
    return completeLogin(c, d, result.user, [...state.amr, 'otp', 'mfa'], 'password');
  };
  app.post('/interaction/:uid/mfa', totpStep('mfa'));
  app.post('/interaction/:uid/enroll', totpStep('enroll'));

  app.post('/interaction/:uid/consent', async (c) => {
    const uid = c.req.param('uid');
    const d = await details(c, uid);
    if (d?.prompt.name !== 'consent') return expired();
    const fields = await form(c, uid);
    if (fields instanceof Response) return fields;
    const provider = deps.provider();
    const { req, res } = node(c);
    const clientId = d.params.client_id as string;
    const sub = d.session?.accountId as string;
    if (fields.decision !== 'allow') {
      void deps.audit.append(AuditKind.Consent, { actor: { sub, client: clientId, ip: deps.clientIp(c) }, decision: { effect: 'deny' } }, { durable: false });
      const returnTo = await provider.interactionResult(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied the request.' },
        { mergeWithLastSubmission: false },
      );
      return c.redirect(returnTo, 303);
    }
    const rar = d.params.authorization_details ? (JSON.parse(d.params.authorization_details as string) as Record<string, unknown>[]) : undefined;
    // A purpose-bound request gets its own grant, so its approval never widens another.
    const grant = d.grantId && !rar ? await provider.Grant.find(d.grantId) : undefined;
    const target = grant ?? new provider.Grant({ accountId: sub, clientId });
    const promptDetails = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (promptDetails.missingOIDCScope) target.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) target.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) target.addResourceScope(indicator, scopes.join(' '));
    if (rar && !promptDetails.missingResourceScopes && d.params.resource) {
      const requested = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean).join(' ');
      if (requested) target.addResourceScope(d.params.resource as string, requested);
    }
    for (const detail of rar ?? []) (target as unknown as { addRar(d: unknown): void }).addRar(detail);
    const grantId = await target.save();
    const scopes = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean);
    const { name } = await clientName(clientId);
    const now = Date.now();
    const previous = await deps.consents.get(sub, clientId);
    await deps.consents.upsert({
      sub,
      clientId,
      clientName: name,
      redirectHost: URL.parse(d.params.redirect_uri as string)?.host ?? '',
      scopes: [...new Set([...(previous?.scopes ?? []), ...scopes])],
      createdAt: previous?.createdAt ?? now,
      lastUsedAt: now,
    });
    await deps.audit.append(
      AuditKind.Consent,
      { actor: { sub, client: clientId, ip: deps.clientIp(c) }, decision: { effect: 'allow' }, scopes, ...(rar ? { authorizationDetails: rar } : {}) },
      { durable: true },
    );
    const returnTo = await provider.interactionResult(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return c.redirect(returnTo, 303);
  });

  app.post('/interaction/:uid/abort', async (c) => {
    const uid = c.req.param('uid');
    const d = await details(c, uid);
    if (!d) return expired();
    const fields = await form(c, uid);
    if (fields instanceof Response) return fields;
    pending.delete(uid);
    const { req, res } = node(c);
    const returnTo = await deps
      .provider()
      .interactionResult(req, res, { error: 'access_denied', error_description: 'Sign-in was refused.' }, { mergeWithLastSubmission: false });
    return c.redirect(returnTo, 303);
  });

  // ---- single sign-on through the upstream IdP ----

  app.get('/interaction/:uid/sso', async (c) => {
    sweep();
    const uid = c.req.param('uid');
    const d = await details(c, uid);
    if (d?.prompt.name !== 'login') return expired();
    if (!deps.upstream) return messagePage('Not available', 'Single sign-on is not configured.', { status: 404, code: 'identity.sso_not_configured' });
    try {
      const { url, pending: state } = await deps.upstream.start({ forceLogin: stepUp(d) });
      upstreamPending.set(state.state, { ...state, uid, expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(url, 303);
    } catch (error) {
      if (error instanceof FederationError) return messagePage('Single sign-on unavailable', error.message, { status: 503, code: error.code });
      throw error;
    }
  });

  app.get('/oauth/sso/callback', async (c) => {
    sweep();
    // Every parameter the IdP's redirect carries is bounded before it is looked at.
    const query = boundedQuery(c.req.url);
    if (!query.ok) return inputRefused(query);
    const state = query.fields.state ?? '';
    // `state` is single-use and short-lived: taken out of the map whatever happens next.
    const waiting = upstreamPending.get(state);
    upstreamPending.delete(state);
    if (!waiting || waiting.expiresAt <= Date.now() || !deps.upstream) return expired();
    // The browser that comes back must be the one that left (its interaction cookie), or a
    // stranger's sign-in could be planted in this interaction (login CSRF).
    const d = await details(c, waiting.uid);
    if (d?.prompt.name !== 'login') return expired();
    try {
      const identity = await deps.upstream.finish(new URL(c.req.url), waiting);
      // The account is the one linked to the IdP's (issuer, subject), never the one that
      // happens to carry the name the IdP sends.
      const result = await deps.users.signInFederated(identity);
      if (!result.ok) {
        await deps.audit.append(
          AuditKind.IdentityLinkRefused,
          {
            actor: { sub: '-', ip: deps.clientIp(c), client: d.params.client_id as string },
            identity: { issuer: identity.issuer, subject: identity.subject, username: identity.username },
            holder: result.holder,
            outcome: { status: 'denied', code: 'identity.sso_conflict', message: 'the name belongs to an account not linked to this identity' },
          },
          { durable: true },
        );
        return refusalPage(
          d.uid,
          'Access refused',
          `An account named “${identity.username}” already exists here and is not linked to your single sign-on identity, so you cannot sign in as it. Ask your administrator to link it (gatehouse users link).`,
          'identity.sso_conflict',
        );
      }
      const user = result.user;
      if (user.disabledAt !== null) return refusalPage(d.uid, 'Access refused', 'This account is disabled. Contact your administrator.', 'identity.disabled');
      const confirming = stepUpSubject(d);
      if (confirming !== undefined && user.name !== confirming)
        return refusalPage(d.uid, 'Access refused', `You are signed in as ${confirming}: confirm with that account.`, 'identity.step_up_other_user');
      const amr = ['fed', ...(isMultiFactor(identity.amr, deps.config.identity.upstream?.mfaAmrValues ?? []) ? ['mfa'] : [])];
      return completeLogin(c, d, user, amr, 'sso');
    } catch (error) {
      if (error instanceof FederationError || error instanceof IdentityError) {
        void deps.audit.append(
          AuditKind.LoginFailed,
          { actor: { sub: '-', ip: deps.clientIp(c) }, step: 'sso', outcome: { status: 'denied', code: error.code } },
          { durable: false },
        );
        return refusalPage(d.uid, 'Single sign-on failed', error.message, error.code);
      }
      throw error;
    }
  });

  return app;
}
