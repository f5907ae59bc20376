import { html, pageResponse } from './html.js';

export interface ConsentView {
  action: string;
  csrf: string;
  user: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  /** Human descriptions of what is asked, one per scope or authorization detail. */
  permissions: string[];
  /** The client runs on this device (loopback or app redirect): say why we always ask. */
  native: boolean;
}

export function consentPage(view: ConsentView): Response {
  return pageResponse(
    'Allow access?',
    html`<p><strong>${view.clientName}</strong> wants to act as <strong>${view.user}</strong> through Gatehouse.</p>
<dl>
<dt>Application</dt><dd>${view.clientName}</dd>
<dt>Client ID</dt><dd><code>${view.clientId}</code></dd>
<dt>Returns to</dt><dd><code>${view.redirectHost}</code></dd>
</dl>
<h2>It will be able to</h2>
<ul>${view.permissions.map((p) => html`<li>${p}</li>`)}</ul>
<p class="note">Gatehouse policy still decides every call. The application never sees your password or any downstream credential.${view.native ? ' Applications on this device are asked for every time, because another program could claim the same address.' : ''}</p>
<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
