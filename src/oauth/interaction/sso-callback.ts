import { AuditKind } from '../../audit/index.js';
import { isMultiFactor } from '../../identity/conditional-access.js';
import { IdentityError } from '../../identity/errors.js';
import { FederationError } from '../../identity/federation.js';
import { boundedQuery } from '../bounded-input.js';
import { completeLogin } from './complete-login.js';
import { type Ctx, expired, type InteractionContext, inputRefused } from './context.js';
import { refusalPage } from './pages.js';

/** `GET /oauth/sso/callback`: the upstream IdP's answer, mapped to the linked local account. */
export function ssoCallback(ix: InteractionContext) {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    ix.sweep();
    // Every parameter the IdP's redirect carries is bounded before it is looked at.
    const query = boundedQuery(c.req.url);
    if (!query.ok) return inputRefused(query);
    const state = query.fields.state ?? '';
    // `state` is single-use and short-lived: taken out of the map whatever happens next.
    const waiting = ix.upstreamPending.get(state);
    ix.upstreamPending.delete(state);
    if (!waiting || waiting.expiresAt <= Date.now() || !deps.upstream) return expired();
    // The browser that comes back must be the one that left (its interaction cookie), or a
    // stranger's sign-in could be planted in this interaction (login CSRF).
    const d = await ix.details(c, waiting.uid);
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
          ix,
          d.uid,
          'Access refused',
          `An account named “${identity.username}” already exists here and is not linked to your single sign-on identity, so you cannot sign in as it. Ask your administrator to link it (gatehouse users link).`,
          'identity.sso_conflict',
        );
      }
      const user = result.user;
      if (user.disabledAt !== null)
        return refusalPage(ix, d.uid, 'Access refused', 'This account is disabled. Contact your administrator.', 'identity.disabled');
      const confirming = ix.stepUpSubject(d);
      if (confirming !== undefined && user.name !== confirming)
        return refusalPage(ix, d.uid, 'Access refused', `You are signed in as ${confirming}: confirm with that account.`, 'identity.step_up_other_user');
      const amr = ['fed', ...(isMultiFactor(identity.amr, deps.config.identity.upstream?.mfaAmrValues ?? []) ? ['mfa'] : [])];
      return completeLogin(ix, c, d, user, amr, 'sso');
    } catch (error) {
      if (error instanceof FederationError || error instanceof IdentityError) {
        void deps.audit.append(
          AuditKind.LoginFailed,
          { actor: { sub: '-', ip: deps.clientIp(c) }, step: 'sso', outcome: { status: 'denied', code: error.code } },
          { durable: false },
        );
        return refusalPage(ix, d.uid, 'Single sign-on failed', error.message, error.code);
      }
      throw error;
    }
  };
}
