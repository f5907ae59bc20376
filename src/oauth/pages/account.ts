import type { ConsentRecord } from '../../storage/index.js';
import { html, pageResponse } from './html.js';

export function connectedClientsPage(view: { user: string; clients: ConsentRecord[]; csrf: string; notice?: string | undefined }): Response {
  const rows = view.clients.map(
    (c) => html`<tr>
<td>${c.clientName}<br><code class="note">${c.clientId}</code></td>
<td><code>${c.redirectHost}</code></td>
<td>${c.scopes.join(' ') || '-'}</td>
<td><time datetime="${new Date(c.lastUsedAt).toISOString()}">${new Date(c.lastUsedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC</time></td>
<td><form method="post" action="/account/clients/revoke"><input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="client_id" value="${c.clientId}"><button type="submit" aria-label="Revoke ${c.clientName}">Revoke</button></form></td>
</tr>`,
  );
  const table = view.clients.length
    ? html`<table><caption class="note">Applications you allowed to act for you</caption><thead><tr><th scope="col">Application</th><th scope="col">Returns to</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col"><span class="note">Action</span></th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No applications are connected.</p>`;
  return pageResponse(
    'Connected clients',
    html`<p>Signed in as <strong>${view.user}</strong>.</p>${view.notice ? html`<p role="status">${view.notice}</p>` : html``}${table}
<p class="note">Revoking ends the application's tokens, refresh tokens and MCP sessions at once; it must ask you again to reconnect.</p>
<form method="post" action="/account/logout"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit">Sign out</button></form>`,
  );
}
