import { Hono } from 'hono';
import { postAbort } from './interaction/abort.js';
import { postConsent } from './interaction/consent.js';
import { type InteractionDeps, InteractionContext, type NodeEnv } from './interaction/context.js';
import { postLogin } from './interaction/login.js';
import { showInteraction } from './interaction/show.js';
import { ssoCallback } from './interaction/sso-callback.js';
import { startSso } from './interaction/sso-start.js';
import { postTotpStep } from './interaction/totp-step.js';

export type { InteractionDeps, NodeEnv } from './interaction/context.js';

/**
 * The pages oidc-provider sends the browser to (`/interaction/:uid`): password, TOTP and its
 * enrollment, single sign-on, conditional access, and consent. The agent never sees any of
 * this: it only ever learns the authorization URL and, at the end, gets a code. One route per
 * file in `interaction/`; what they share (pending sign-ins, form checks) is `InteractionContext`.
 */
export function interactionRoutes(deps: InteractionDeps): Hono<NodeEnv> {
  const ix = new InteractionContext(deps);
  const app = new Hono<NodeEnv>();
  app.get('/interaction/:uid', showInteraction(ix));
  app.post('/interaction/:uid/login', postLogin(ix));
  app.post('/interaction/:uid/mfa', postTotpStep(ix, 'mfa'));
  app.post('/interaction/:uid/enroll', postTotpStep(ix, 'enroll'));
  app.post('/interaction/:uid/consent', postConsent(ix));
  app.post('/interaction/:uid/abort', postAbort(ix));
  // Single sign-on through the upstream IdP.
  app.get('/interaction/:uid/sso', startSso(ix));
  app.get('/oauth/sso/callback', ssoCallback(ix));
  return app;
}
