import { FederationError } from '../../identity/federation.js';
import { messagePage } from '../pages/message.js';
import { type Ctx, expired, type InteractionContext, PENDING_TTL_MS } from './context.js';

/** `GET /interaction/:uid/sso`: off to the upstream IdP, remembering which interaction to come back to. */
export function startSso(ix: InteractionContext) {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    ix.sweep();
    const uid = c.req.param('uid') as string;
    const d = await ix.details(c, uid);
    if (d?.prompt.name !== 'login') return expired();
    if (!deps.upstream) return messagePage('Not available', 'Single sign-on is not configured.', { status: 404, code: 'identity.sso_not_configured' });
    try {
      const { url, pending: state } = await deps.upstream.start({ forceLogin: ix.stepUp(d) });
      ix.upstreamPending.set(state.state, { ...state, uid, expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(url, 303);
    } catch (error) {
      if (error instanceof FederationError) return messagePage('Single sign-on unavailable', error.message, { status: 503, code: error.code });
      throw error;
    }
  };
}
