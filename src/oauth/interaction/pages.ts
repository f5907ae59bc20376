import { totpUri } from '../../identity/totp.js';
import { ACCOUNT_CLIENT_ID } from '../constants.js';
import { html, pageResponse } from '../pages/html.js';
import { enrollPage, loginPage, mfaPage } from '../pages/login.js';
import type { Ctx, Details, InteractionContext } from './context.js';

/** The password page of interaction `d`, or of its step-up (the signed-in user's name filled in). */
export async function renderLogin(
  ix: InteractionContext,
  _c: Ctx,
  d: Details,
  extra: { error?: string; username?: string; status?: number } = {},
): Promise<Response> {
  const clientId = d.params.client_id as string;
  return loginPage({
    action: `/interaction/${d.uid}/login`,
    csrf: ix.csrfToken(d.uid),
    clientName: clientId === ACCOUNT_CLIENT_ID ? undefined : (await ix.clientName(clientId)).name,
    stepUp: ix.stepUp(d),
    localAccounts: ix.deps.config.identity.localAccounts,
    sso: ix.deps.upstream ? { name: ix.deps.upstream.config.name, href: `/interaction/${d.uid}/sso` } : undefined,
    username: ix.stepUpSubject(d),
    ...extra,
  });
}

/** The second-factor page a sign-in waiting at `stage` shows: the code prompt, or the enrollment with its QR secret. */
export function renderTotp(
  ix: InteractionContext,
  uid: string,
  state: { stage: 'mfa' | 'enroll'; sub: string; secret?: string },
  extra: { error?: string; status?: number } = {},
): Response {
  const csrf = ix.csrfToken(uid);
  if (state.stage === 'enroll')
    return enrollPage({
      action: `/interaction/${uid}/enroll`,
      csrf,
      secret: state.secret as string,
      uri: totpUri(state.secret as string, state.sub, ix.deps.config.identity.mfaIssuer),
      ...extra,
    });
  return mfaPage({ action: `/interaction/${uid}/mfa`, csrf, ...extra });
}

/** A refusal with its reference code and one way out: back to the application (an abort). */
export function refusalPage(ix: InteractionContext, uid: string, title: string, message: string, code: string): Response {
  return pageResponse(
    title,
    html`<p role="alert">${message}</p><p class="note">Reference: <code>${code}</code></p>
<form method="post" action="/interaction/${uid}/abort"><input type="hidden" name="csrf" value="${ix.csrfToken(uid)}"><button type="submit">Return to the application</button></form>`,
    403,
  );
}
