import type Provider from 'oidc-provider';
import { storeUnavailableFrom } from '../errors/index.js';
import { messagePage } from './pages/message.js';

/** Where the listener leaves the outage for the middleware (per request). */
const OUTAGE = 'gatehouseStoreOutage';

/**
 * oidc-provider answers any error of its storage adapter as `500 server_error`. When the
 * cause is an unreachable store, answer `503 temporarily_unavailable` with `Retry-After`
 * instead, on the token endpoint and on every page alike: the client's credentials and the
 * user's grant are fine, only this moment is not, and a retry will work once the store is back.
 */
export function answerStoreOutages(provider: Provider): void {
  provider.on('server_error', (ctx: { state: Record<string, unknown> }, error: unknown) => {
    const unavailable = storeUnavailableFrom(error);
    if (unavailable) ctx.state[OUTAGE] = unavailable;
  });
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      // Thrown past oidc-provider's own handler (by a middleware of ours): same answer.
      if (!storeUnavailableFrom(error)) throw error;
      (ctx.state as Record<string, unknown>)[OUTAGE] = error;
    }
    const unavailable = storeUnavailableFrom((ctx.state as Record<string, unknown>)[OUTAGE]);
    if (!unavailable) return;
    ctx.status = unavailable.status;
    ctx.set('retry-after', String(unavailable.retryAfterSeconds));
    ctx.set('cache-control', 'no-store');
    if (typeof ctx.body === 'string') {
      const page = messagePage('Temporarily unavailable', unavailable.message, { status: unavailable.status, code: unavailable.code });
      ctx.type = 'html';
      ctx.body = await page.text();
    } else {
      ctx.body = { error: 'temporarily_unavailable', error_description: unavailable.message, code: unavailable.code };
    }
  });
}
