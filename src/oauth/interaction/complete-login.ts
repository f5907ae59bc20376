import { AuditKind } from '../../audit/index.js';
import { isMultiFactor } from '../../identity/conditional-access.js';
import type { LoginFailure } from '../../identity/users.js';
import type { UserRecord } from '../../storage/index.js';
import { type Ctx, type Details, type InteractionContext, node } from './context.js';
import { refusalPage, renderLogin, renderTotp } from './pages.js';

function lockedMessage(failure: LoginFailure): string {
  const minutes = Math.max(1, Math.ceil((failure.retryAfterMs ?? 0) / 60_000));
  return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** Last step of every sign-in: conditional access, then the login result for oidc-provider. */
export async function completeLogin(ix: InteractionContext, c: Ctx, d: Details, user: UserRecord, amr: string[], via: 'password' | 'sso'): Promise<Response> {
  const { deps } = ix;
  const ip = deps.clientIp(c);
  const now = Date.now();
  const refusal =
    deps.access.check(user.groups, { ip, mfa: isMultiFactor(amr, ix.mfaValues), authTime: now }, now) ??
    // A step-up that did not produce a second factor (an IdP that reports none) is not one.
    (ix.stepUp(d) && !isMultiFactor(amr, ix.mfaValues)
      ? { code: 'identity.mfa_required' as const, message: 'This page needs a sign-in with a second factor, and none was presented.' }
      : undefined);
  const actor = { sub: user.name, groups: user.groups, ip, client: d.params.client_id as string };
  if (refusal) {
    void deps.audit.append(
      AuditKind.ConditionalAccessDenied,
      { actor, via, outcome: { status: 'denied', code: refusal.code, message: refusal.message } },
      { durable: false },
    );
    ix.pending.delete(d.uid);
    return refusalPage(ix, d.uid, 'Access refused', refusal.message, refusal.code);
  }
  ix.pending.delete(d.uid);
  await deps.users.recordLogin(user.name);
  deps.sessionLimits.set(user.name, deps.access.requirements(user.groups).maxSessionAgeMs ?? deps.config.identity.sessionMaxAge);
  await deps.audit.append(AuditKind.Login, { actor, via, amr, outcome: { status: 'ok' } }, { durable: true });
  const { req, res } = node(c);
  const returnTo = await deps
    .provider()
    .interactionResult(req, res, { login: { accountId: user.name, amr, remember: true, ts: Math.floor(now / 1000) } }, { mergeWithLastSubmission: false });
  return c.redirect(returnTo, 303);
}

/** A wrong password or code: recorded, and the same page again with the reason. */
export async function loginFailed(
  ix: InteractionContext,
  c: Ctx,
  d: Details,
  name: string,
  failure: LoginFailure,
  step: 'password' | 'totp',
): Promise<Response> {
  const { deps } = ix;
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
  if (step === 'password') return renderLogin(ix, c, d, { error, username: name, status });
  const state = ix.pending.get(d.uid);
  return renderTotp(ix, d.uid, state?.stage === 'enroll' ? state : { stage: 'mfa', sub: name }, { error, status });
}
