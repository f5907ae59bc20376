import { alert, html, pageResponse, type Html } from './html.js';

export interface LoginView {
  action: string;
  csrf: string;
  clientName?: string | undefined;
  /** A step-up: someone signed in is asked to sign in again, with a second factor. */
  stepUp?: boolean | undefined;
  username?: string | undefined;
  error?: string | undefined;
  localAccounts: boolean;
  sso?: { name: string; href: string } | undefined;
  status?: number;
}

export function loginPage(view: LoginView): Response {
  const intro: Html = view.stepUp
    ? html`<p>Confirm it is you: sign in again, then enter a code from your authenticator app.${view.clientName ? '' : ' Deciding approval requests needs a recent second factor.'}</p>`
    : view.clientName
      ? html`<p><strong>${view.clientName}</strong> is asking to use Gatehouse on your behalf. Sign in to continue.</p>`
      : html`<p>Sign in to manage the applications connected to your account and the approval requests waiting for you.</p>`;
  const form = view.localAccounts
    ? html`<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${view.username ?? ''}" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024">
<button type="submit" class="primary">Sign in</button>
</form>`
    : html``;
  const sso = view.sso ? html`<p><a href="${view.sso.href}">Sign in with ${view.sso.name}</a></p>` : html``;
  return pageResponse('Sign in', html`${intro}${alert(view.error)}${form}${sso}`, view.status ?? 200);
}

export interface MfaView {
  action: string;
  csrf: string;
  error?: string | undefined;
  status?: number;
}

export function mfaPage(view: MfaView): Response {
  return pageResponse(
    'Two-step verification',
    html`<p>Enter the six-digit code from your authenticator app.</p>${alert(view.error)}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<label for="code">Authentication code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<button type="submit" class="primary">Verify</button>
</form>`,
    view.status ?? 200,
  );
}

export interface EnrollView extends MfaView {
  secret: string;
  uri: string;
}

export function enrollPage(view: EnrollView): Response {
  const grouped = view.secret.replace(/(.{4})/g, '$1 ').trim();
  return pageResponse(
    'Set up two-step verification',
    html`<p>Your account requires a second factor. Add this key to an authenticator app (any app that supports TOTP), then enter the code it shows.</p>
<dl><dt>Key</dt><dd><code>${grouped}</code></dd><dt>Setup link</dt><dd><code>${view.uri}</code></dd></dl>
${alert(view.error)}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<label for="code">Authentication code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<button type="submit" class="primary">Verify and continue</button>
</form>`,
    view.status ?? 200,
  );
}
