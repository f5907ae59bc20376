import { Hono, type Context } from 'hono';
import { holdsApproverRole, type PeopleList } from '../approvals/index.js';
import type { AuditBody, AuditKindName } from '../audit/index.js';
import { hostOriginCheck } from '../http/middleware/host-origin.js';
import { approvePin, pinReview, revealHidden, type PinReview } from '../pinning/index.js';
import type { ToolPinRecord, ToolPinStore } from '../storage/index.js';
import { ConsoleAccessError, type ConsolePageDeps, type ConsoleUser, signedInUser } from './console-auth.js';
import { CsrfTokens } from './csrf.js';
import { CONSOLE_HEADERS, html, page, type Raw } from './html.js';

export interface ToolPinPagesDeps extends ConsolePageDeps {
  store: ToolPinStore;
  audit: { append(kind: AuditKindName, body: AuditBody, options: { durable: boolean }): Promise<unknown> };
  /** `approvals.approvers`: whoever may approve a server's calls may approve its tool definitions. */
  approvers: Readonly<Record<string, PeopleList>>;
  /** An approval needs a second factor at most this old. */
  mfaMaxAgeMs: number;
}

const MAX_FORM_BYTES = 4 * 1024;

/**
 * The console's review of quarantined tools: the list, one tool's definition diff, and an
 * Approve button for people with the approver role for its server (`approvals.approvers`).
 * Like the approval pages: server-rendered, no scripts, a fresh second factor, a CSRF token
 * bound to the session and to the exact definition shown, same-origin posts only, and any
 * request carrying an `Authorization` header refused — an agent can never approve a tool.
 */
export function toolPinPages(deps: ToolPinPagesDeps): Hono {
  const app = new Hono();
  const csrf = deps.csrf ?? new CsrfTokens();
  const now = deps.now ?? Date.now;
  const origin = new URL(deps.publicUrl).origin;
  app.use('/tools', hostOriginCheck({ allowedHosts: [new URL(deps.publicUrl).host], allowedOrigins: [origin] }));
  app.use('/tools/*', hostOriginCheck({ allowedHosts: [new URL(deps.publicUrl).host], allowedOrigins: [origin] }));

  const respond = (c: Context, status: number, title: string, body: Raw) => c.body(page(title, body), status as 200, CONSOLE_HEADERS);
  const refuse = (c: Context, status: number, title: string, message: string) =>
    respond(c, status, title, html`<h1>${title}</h1><p class="notice bad">${message}</p><p><a href="/console/tools">Quarantined tools</a></p>`);
  const mayApprove = (user: ConsoleUser, server: string) => holdsApproverRole(deps.approvers, server, user.sub, user.groups);
  const mfaFresh = (user: ConsoleUser) => user.mfaAt !== undefined && now() - user.mfaAt <= deps.mfaMaxAgeMs;

  const who = async (c: Context): Promise<ConsoleUser | Response> => {
    if (c.req.header('authorization') !== undefined)
      return refuse(c, 401, 'Not for agents', 'The console does not accept bearer tokens. Sign in with a browser.');
    const user = await signedInUser(deps.auth, c);
    if (user instanceof ConsoleAccessError) return refuse(c, 403, 'Access refused', user.message);
    if (user) return user;
    const link = deps.auth.loginUrl?.(new URL(c.req.url).pathname, { mfa: false });
    return link
      ? c.redirect(link, 303)
      : refuse(c, 401, 'Sign in', 'This gateway has no console sign-in. Review tools with `gatehouse tools diff` and `tools approve`.');
  };

  app.get('/tools', async (c) => {
    const user = await who(c);
    if (user instanceof Response) return user;
    const pending = latestPending(await deps.store.list()).filter((r) => mayApprove(user, r.server));
    const rows = pending.map(
      (r) =>
        html`<tr><td><a href="/console/tools/${encodeURIComponent(r.server)}/${encodeURIComponent(r.tool)}"><code>${revealHidden(`${r.server}__${r.tool}`)}</code></a></td><td>${r.reason}</td><td>${r.findings.join(', ') || '—'}</td><td>${new Date(r.firstSeenAt).toISOString()}</td></tr>`,
    );
    return respond(
      c,
      200,
      'Quarantined tools',
      html`<h1>Quarantined tools</h1><p>Signed in as <strong>${user.sub}</strong>. Tool definitions that changed, appeared after a server was pinned, or read like instructions, held until approved.</p>${
        pending.length === 0
          ? html`<p>No quarantined tools you can approve.</p>`
          : html`<table><thead><tr><th>Tool</th><th>Why</th><th>Description findings</th><th>Seen</th></tr></thead><tbody>${rows}</tbody></table>`
      }`,
    );
  });

  app.get('/tools/:server/:tool', async (c) => {
    const user = await who(c);
    if (user instanceof Response) return user;
    const { server, tool } = c.req.param();
    // Someone who may not approve this server's tools learns nothing about them.
    const review = mayApprove(user, server) ? pinReview(await deps.store.forTool(server, tool)) : undefined;
    if (!review) return refuse(c, 404, 'Not found', 'No quarantined definition of this tool that you can approve.');
    return respond(c, 200, `Review ${server}__${tool}`, reviewPage(review, user, c.req.query('done') === 'approved'));
  });

  function reviewPage(review: PinReview, user: ConsoleUser, done: boolean): Raw {
    const { pending, approved } = review;
    const path = `/console/tools/${encodeURIComponent(pending.server)}/${encodeURIComponent(pending.tool)}`;
    const token = csrf.issue(user.sessionId, `tool:${pending.server}\n${pending.tool}\n${pending.digest}`);
    const lines = review.diff.map((line) => html`<span class="${line.startsWith('+') ? 'ok' : line.startsWith('-') ? 'warn' : ''}">${line}</span>\n`);
    return html`<h1>Review <code>${revealHidden(`${pending.server}__${pending.tool}`)}</code></h1>
${done ? html`<p class="notice">Approved. Agents see this definition from their next request.</p>` : ''}
<dl>
  <dt>Why quarantined</dt><dd>${pending.reason === 'changed' ? 'its definition changed since it was approved' : pending.reason === 'new' ? 'it appeared after the server was first pinned' : 'its description reads like instructions to the model'}</dd>
  <dt>Description findings</dt><dd>${pending.findings.join(', ') || 'none'}</dd>
  <dt>Approved definition</dt><dd><code>${approved?.digest ?? 'none (new tool)'}</code></dd>
  <dt>Awaiting review</dt><dd><code>${pending.digest}</code>, seen ${new Date(pending.firstSeenAt).toISOString()}</dd>
</dl>
<h2>Definition diff</h2>
<p><small>Invisible, bidirectional and tag characters are shown escaped (<code>\\u{200b}</code>).</small></p>
<pre class="args" id="diff">${lines}</pre>
<form method="post" action="${path}">
  <input type="hidden" name="csrf" value="${token}"><input type="hidden" name="digest" value="${pending.digest}">
  <p><button class="approve" type="submit">Approve this definition</button></p>
  ${mfaFresh(user) ? '' : html`<p class="notice bad">Approving needs a second factor presented recently; you will be asked to confirm it is you.</p>`}
</form>
<p><a href="/console/tools">Quarantined tools</a></p>`;
  }

  app.post('/tools/:server/:tool', async (c) => {
    if (c.req.header('authorization') !== undefined)
      return refuse(c, 401, 'Not for agents', 'The console does not accept bearer tokens: an agent can never approve a tool.');
    if (c.req.header('origin') !== origin) return refuse(c, 403, 'Refused', 'This form can only be sent from the Gatehouse console itself.');
    const user = await who(c);
    if (user instanceof Response) return user;
    if (Number(c.req.header('content-length') ?? 0) > MAX_FORM_BYTES) return refuse(c, 413, 'Too large', 'The form is too large.');
    const { server, tool } = c.req.param();
    if (!mayApprove(user, server)) return refuse(c, 404, 'Not found', 'No quarantined definition of this tool that you can approve.');
    const form = await c.req.parseBody();
    const digest = typeof form.digest === 'string' && /^[0-9a-f]{64}$/.test(form.digest) ? form.digest : undefined;
    // The token binds the exact definition the page showed: a definition that changed again in
    // the meantime is not approved on the strength of the old page.
    if (!digest || !csrf.verify(user.sessionId, `tool:${server}\n${tool}\n${digest}`, form.csrf)) {
      return refuse(c, 403, 'Refused', 'The form has expired or does not match this definition. Reload the page and review it again.');
    }
    const review = pinReview(await deps.store.forTool(server, tool), digest);
    if (!review || review.pending.digest !== digest) return refuse(c, 409, 'Nothing to approve', 'This definition no longer awaits review.');
    if (!mfaFresh(user)) {
      const link = deps.auth.loginUrl?.(new URL(c.req.url).pathname, { mfa: true });
      return respond(
        c,
        403,
        'Second factor needed',
        html`<h1>Second factor needed</h1><p class="notice bad">Nothing was approved: approving needs a second factor presented recently.</p>${link ? html`<p><a href="${link}">Confirm with your second factor</a></p>` : ''}`,
      );
    }
    await approvePin({ store: deps.store, audit: deps.audit }, review, { sub: user.sub, groups: user.groups, via: 'console' }, now());
    return c.redirect(`/console/tools/${encodeURIComponent(server)}/${encodeURIComponent(tool)}?done=approved`, 303);
  });

  return app;
}

/** The newest pending row of each tool (rows come newest first per tool). */
function latestPending(rows: readonly ToolPinRecord[]): ToolPinRecord[] {
  const seen = new Set<string>();
  const out: ToolPinRecord[] = [];
  for (const row of rows) {
    if (row.state !== 'pending') continue;
    const key = `${row.server}\u0000${row.tool}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(row);
  }
  return out;
}
