import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../../audit/index.js';
import type { LoadedConfig } from '../../config/index.js';
import type { ConditionalAccess } from '../../identity/conditional-access.js';
import type { PendingUpstreamLogin, UpstreamIdp } from '../../identity/federation.js';
import type { UserDirectory } from '../../identity/users.js';
import type { Logger } from '../../log/index.js';
import type { ConsentStore } from '../../storage/index.js';
import { readBoundedForm } from '../bounded-input.js';
import { MFA_ACR } from '../browser-session.js';
import type { Csrf } from '../../http/csrf.js';
import { storeUnavailableFrom } from '../../errors/index.js';
import { messagePage } from '../pages/message.js';

export type NodeEnv = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };
export type Ctx = Context<NodeEnv>;

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

/** A sign-in that passed the password and waits for its second factor (or its enrollment). */
export interface Pending {
  stage: 'mfa' | 'enroll';
  sub: string;
  amr: string[];
  secret?: string;
  expiresAt: number;
}

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export const PENDING_TTL_MS = 10 * 60_000;
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

/** The node request and response behind a Hono context: oidc-provider reads its cookies from them. */
export function node(c: Ctx): { req: IncomingMessage; res: ServerResponse } {
  const req = c.env?.incoming;
  const res = c.env?.outgoing;
  if (!req || !res) throw new Error('the sign-in pages need the node HTTP server (c.env.incoming/outgoing)');
  return { req, res };
}

export const expired = () =>
  messagePage('Sign-in expired', 'This sign-in page has expired or was opened in another browser. Go back to the application and start again.', {
    status: 400,
    code: 'interaction.expired',
  });

const csrfRefused = () =>
  messagePage('Request refused', 'This form was not submitted from the Gatehouse sign-in page. Go back to the application and start again.', {
    status: 403,
    code: 'interaction.csrf',
  });

export const inputRefused = (refusal: { status: number; code: string; message: string }) =>
  messagePage('Request refused', `${refusal.message} Go back to the application and start again.`, { status: refusal.status, code: refusal.code });

/**
 * What every sign-in route shares: the dependencies, the sign-ins waiting for a second factor
 * or for the upstream IdP, and the checks each posted form goes through.
 */
export class InteractionContext {
  readonly pending = new Map<string, Pending>();
  readonly upstreamPending = new Map<string, PendingUpstreamLogin & { uid: string; expiresAt: number }>();
  readonly publicOrigin: string;
  readonly mfaValues: string[];

  constructor(readonly deps: InteractionDeps) {
    this.publicOrigin = new URL(deps.config.publicUrl).origin;
    this.mfaValues = ['otp', 'mfa', ...(deps.config.identity.upstream?.mfaAmrValues ?? [])];
  }

  sweep(): void {
    const now = Date.now();
    for (const [k, v] of this.pending) if (v.expiresAt <= now) this.pending.delete(k);
    for (const [k, v] of this.upstreamPending) if (v.expiresAt <= now) this.upstreamPending.delete(k);
  }

  async details(c: Ctx, uid: string): Promise<Details | undefined> {
    // Interaction ids are oidc-provider's (21 URL-safe characters): anything else is no interaction.
    if (!INTERACTION_UID.test(uid)) return undefined;
    const { req, res } = node(c);
    try {
      const d = await this.deps.provider().interactionDetails(req, res);
      return d.uid === uid ? d : undefined;
    } catch (error) {
      // An unreachable store is not "no such interaction": the sign-in is fine, retry later.
      if (storeUnavailableFrom(error)) throw error;
      return undefined;
    }
  }

  /** The CSRF token of the forms of interaction `uid`. */
  csrfToken(uid: string): string {
    return this.deps.csrf.token(`interaction:${uid}`);
  }

  /**
   * The posted form: every field bounded first (an oversized one is refused with a page, and
   * nothing of it is checked, hashed, logged or audited), then CSRF: the form token bound to the
   * interaction, and (when sent) our own Origin.
   */
  async form(c: Ctx, uid: string): Promise<Record<string, string> | Response> {
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== this.publicOrigin) return csrfRefused();
    const body = await readBoundedForm(c);
    if (!body.ok) return inputRefused(body);
    return this.deps.csrf.verify(`interaction:${uid}`, body.fields.csrf) ? body.fields : csrfRefused();
  }

  /**
   * A form posted to `/interaction/:uid/...`: the interaction's details when `accepts` them
   * (else the expired page), then the checked fields (else the refusal page).
   */
  async posted(c: Ctx, accepts: (d: Details) => boolean): Promise<{ uid: string; d: Details; fields: Record<string, string> } | Response> {
    const uid = c.req.param('uid') as string;
    const d = await this.details(c, uid);
    if (!d || !accepts(d)) return expired();
    const fields = await this.form(c, uid);
    if (fields instanceof Response) return fields;
    return { uid, d, fields };
  }

  async clientName(clientId: string): Promise<{ name: string; native: boolean }> {
    const client = await this.deps
      .provider()
      .Client.find(clientId)
      .catch(() => undefined);
    return { name: (client?.clientName as string | undefined) ?? clientId, native: client?.applicationType === 'native' };
  }

  /** The request asks for a second factor now (`acr_values`, with `prompt=login`: a step-up). */
  stepUp(d: Details): boolean {
    return ((d.params.acr_values as string | undefined) ?? '').split(' ').includes(MFA_ACR);
  }

  /** Who is signed in already, when this sign-in is a step-up: only they can confirm. */
  stepUpSubject(d: Details): string | undefined {
    return this.stepUp(d) ? (d.session?.accountId as string | undefined) : undefined;
  }
}
