import { Hono, type Context } from 'hono';
import {
  ApprovalActionError,
  ApprovalRefusal,
  argumentsView,
  checkDecision,
  holdsApproverRole,
  INTEGRITY_NOTE,
  isListed,
  visibleText,
  type ApprovalService,
  type DecisionRequest,
} from '../approvals/index.js';
import { hostOriginCheck } from '../http/middleware/host-origin.js';
import type { ApprovalRecord } from '../storage/index.js';
import { ConsoleAccessError, type ConsolePageDeps, type ConsoleUser } from './console-auth.js';
import { CsrfTokens } from './csrf.js';
import { CONSOLE_HEADERS, html, page, type Raw } from './html.js';

export interface ApprovalPagesDeps extends ConsolePageDeps {
  service: ApprovalService;
  /** A console decision needs a second factor at most this old. */
  mfaMaxAgeMs: number;
}

const MAX_FORM_BYTES = 16 * 1024;

/** 404 for an unknown request, 400 for a form missing the acknowledgement, 403 for everything refused. */
function statusFor(error: ApprovalActionError): number {
  if (error.reason === ApprovalRefusal.NotFound) return 404;
  if (error.reason === ApprovalRefusal.HiddenNotAcknowledged) return 400;
  return 403;
}

/**
 * The console's approval pages: the list of requests, one request with Approve / Deny (and
 * break-glass for its requester, where allowed). Server-rendered, no scripts, no external
 * assets. Every decision needs a signed-in person with a fresh second factor, a CSRF token
 * bound to their session, and a same-origin form post; a request carrying an
 * `Authorization` header (an agent's token) is refused outright. Refusals are audited.
 */
export function approvalPages(deps: ApprovalPagesDeps): Hono {
  const app = new Hono();
  const csrf = deps.csrf ?? new CsrfTokens();
  const now = deps.now ?? Date.now;
  const origin = new URL(deps.publicUrl).origin;
  const { service } = deps;

  app.use('*', hostOriginCheck({ allowedHosts: [new URL(deps.publicUrl).host], allowedOrigins: [origin] }));

  const respond = (c: Context, status: number, title: string, body: Raw) => c.body(page(title, body), status as 200, CONSOLE_HEADERS);
  const refuse = (c: Context, status: number, title: string, message: string) =>
    respond(c, status, title, html`<h1>${title}</h1><p class="notice bad">${message}</p><p><a href="/console/approvals">All approval requests</a></p>`);
  const minutes = Math.max(1, Math.round(deps.mfaMaxAgeMs / 60000));
  const mfaWindow = `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const signIn = (c: Context, mfa: boolean) => {
    const back = new URL(c.req.url).pathname;
    const link = deps.auth.loginUrl?.(back, { mfa });
    const message = mfa
      ? `Nothing was decided: deciding an approval needs a second factor presented in the last ${mfaWindow}. Confirm it is you, then decide again.`
      : link
        ? 'Sign in to review approval requests.'
        : 'This gateway has no console sign-in (the built-in authorization server is off). Decide with `gatehouse approvals approve|deny` instead.';
    return respond(
      c,
      mfa ? 403 : 401,
      mfa ? 'Second factor needed' : 'Sign in',
      html`<h1>${mfa ? 'Second factor needed' : 'Sign in'}</h1><p class="notice bad">${message}</p>${link ? html`<p><a href="${link}">${mfa ? 'Confirm with your second factor' : 'Sign in'}</a></p>` : ''}`,
    );
  };
  const mfaFresh = (user: ConsoleUser) => user.mfaAt !== undefined && now() - user.mfaAt <= deps.mfaMaxAgeMs;
  const bearer = (c: Context) => c.req.header('authorization') !== undefined;
  /** The signed-in person, or the response for someone who is not (or may not be here). */
  const who = async (c: Context): Promise<{ user: ConsoleUser } | { refused: ConsoleAccessError } | undefined> => {
    try {
      const user = await deps.auth.currentUser(c);
      return user ? { user } : undefined;
    } catch (error) {
      if (error instanceof ConsoleAccessError) return { refused: error };
      throw error;
    }
  };
  /** A page view without a session: straight to the sign-in, which comes back here. */
  const toSignIn = (c: Context) => {
    const link = deps.auth.loginUrl?.(new URL(c.req.url).pathname, { mfa: false });
    return link ? c.redirect(link, 303) : signIn(c, false);
  };
  const viewer = async (c: Context): Promise<ConsoleUser | Response> => {
    if (bearer(c)) return refuse(c, 401, 'Not for agents', 'The console does not accept bearer tokens. Sign in with a browser.');
    const found = await who(c);
    if (!found) return toSignIn(c);
    if ('refused' in found) return refuse(c, 403, 'Access refused', found.refused.message);
    return found.user;
  };

  app.get('/', (c) => c.redirect('/console/approvals', 303));

  app.get('/approvals', async (c) => {
    const user = await viewer(c);
    if (user instanceof Response) return user;
    const records = (await service.list({ status: ['pending'], limit: 200 })).map((r) => service.effective(r)).filter((r) => r.status === 'pending');
    const mine = (r: ApprovalRecord) => r.requester.sub === user.sub;
    const canDecide = (r: ApprovalRecord) => mine(r) || holdsApproverRole(service.settings.approvers, r.server, user.sub, user.groups);
    const visible = records.filter(canDecide);
    const rows = visible.map(
      (r) =>
        html`<tr><td><a href="/console/approvals/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${visibleText(r.requester.sub)}${mine(r) ? ' (you)' : ''}</td><td><code>${visibleText(r.target)}</code>${r.argsMasked || r.argsFormat !== 'exact-v1' ? html` <span class="warn">(hidden values)</span>` : ''}</td><td>${r.level}</td><td>${new Date(r.expiresAt).toISOString()}</td></tr>`,
    );
    return respond(
      c,
      200,
      'Approval requests',
      html`<h1>Approval requests</h1><p>Signed in as <strong>${user.sub}</strong>.</p>${
        visible.length === 0
          ? html`<p>No pending requests you can decide.</p>`
          : html`<table><thead><tr><th>Request</th><th>Requester</th><th>Call</th><th>Level</th><th>Expires</th></tr></thead><tbody>${rows}</tbody></table>`
      }`,
    );
  });

  app.get('/approvals/:id', async (c) => {
    const user = await viewer(c);
    if (user instanceof Response) return user;
    const stored = await service.get(c.req.param('id'));
    // Someone who could not decide a request learns nothing about it, not even that it exists.
    if (!stored || !(stored.requester.sub === user.sub || holdsApproverRole(service.settings.approvers, stored.server, user.sub, user.groups))) {
      return refuse(c, 404, 'Not found', 'There is no approval request with this id that you can see.');
    }
    const record = service.effective(stored);
    const done = c.req.query('done');
    return respond(c, 200, `Approval ${record.id}`, detail(record, user, c, done));
  });

  function detail(record: ApprovalRecord, user: ConsoleUser, c: Context, done: string | undefined): Raw {
    const self = record.requester.sub === user.sub;
    const token = csrf.issue(user.sessionId, record.id);
    const pending = record.status === 'pending';
    const view = argumentsView(record);
    const breakGlassAllowed = self && record.level === 'four-eyes' && isListed(service.settings.breakGlass, user.sub, user.groups);
    let allowedToApprove = false;
    try {
      checkDecision(record, { sub: user.sub, groups: user.groups, via: 'console' }, { decision: 'approve', acknowledgeHidden: true }, service.settings, now());
      allowedToApprove = true;
    } catch {
      allowedToApprove = false;
    }
    const client = record.requester.client;
    // Approving partly hidden arguments is a separate, explicit act.
    const acknowledge = view.hidden
      ? html`<p><label class="check"><input type="checkbox" name="acknowledgeHidden" value="on"> I approve this call although some of its arguments are hidden from me.</label></p>`
      : '';
    const anyClient = html`<p><label class="check"><input type="checkbox" name="anyClient" value="on"> Also release it from any other client of ${visibleText(record.requester.sub)}${client ? html` (not only <code>${visibleText(client)}</code>)` : ''}.</label></p>`;
    const forms = !pending
      ? html``
      : html`
<form method="post" action="/console/approvals/${encodeURIComponent(record.id)}">
  <input type="hidden" name="csrf" value="${token}">
  <label for="note">Note (optional)</label><textarea id="note" name="note" maxlength="1000"></textarea>
  ${allowedToApprove ? html`${acknowledge}${anyClient}` : ''}
  <p>${allowedToApprove ? html`<button class="approve" type="submit" name="decision" value="approve">${self ? 'Confirm' : 'Approve'}</button>` : ''}<button class="deny" type="submit" name="decision" value="deny">${self ? 'Withdraw' : 'Deny'}</button></p>
  ${!allowedToApprove && self && record.level === 'four-eyes' ? html`<p class="notice">This call needs a second person: you cannot approve your own request.</p>` : ''}
  ${!mfaFresh(user) ? stepUpNotice(c) : ''}
</form>
${
  breakGlassAllowed && view.integrity !== 'mismatch'
    ? html`<h2 class="warn">Break-glass</h2>
<form method="post" action="/console/approvals/${encodeURIComponent(record.id)}">
  <input type="hidden" name="csrf" value="${token}"><input type="hidden" name="decision" value="approve"><input type="hidden" name="breakGlass" value="on">
  <p>Approve your own request without a second person. This is recorded as break-glass and announced to everyone watching approvals.</p>
  <label for="reason">Why this cannot wait (required)</label><textarea id="reason" name="reason" required minlength="${service.settings.breakGlass.minReasonLength}" maxlength="1000"></textarea>
  ${acknowledge}
  <p><button class="breakglass" type="submit">Break glass and approve</button></p>
</form>`
    : ''
}`;
    return html`<h1>Approval request <code>${record.id}</code></h1>
${done ? html`<p class="notice">${done === 'approved' ? 'Approved.' : done === 'denied' ? 'Denied.' : ''} The agent's call ${done === 'approved' ? 'can now run once, with exactly these arguments.' : 'will not run.'}</p>` : ''}
<dl>
  <dt>Status</dt><dd class="status ${record.status === 'pending' ? '' : record.status === 'approved' || record.status === 'used' ? 'ok' : 'warn'}">${record.status}${record.breakGlass ? ' (break-glass)' : ''}</dd>
  <dt>Level</dt><dd>${record.level === 'four-eyes' ? 'four-eyes: a second person must approve' : 'confirm: the requesting person confirms'}</dd>
  <dt>Requested by</dt><dd>${visibleText(record.requester.sub)}${record.requester.groups.length ? ` (${record.requester.groups.map(visibleText).join(', ')})` : ''}</dd>
  <dt>Client</dt><dd>${client ? html`<code>${visibleText(client)}</code>` : html`<em>none named</em>`}${record.decidedAt && record.status !== 'denied' ? (record.anyClient ? ' — released for any client of this user' : ' — released for this client only') : ' — an approval releases the call from this client only, unless you choose otherwise'}</dd>
  <dt>Call</dt><dd><code>${visibleText(record.target)}</code> (${record.method})</dd>
  <dt>Agent's reason</dt><dd>${record.reason ? html`<q>${visibleText(record.reason)}</q> <small>(stated by the agent; not verified)</small>` : html`<em>none given</em>`}</dd>
  <dt>Policy</dt><dd>${record.policy ?? '—'}</dd>
  <dt>Requested</dt><dd>${new Date(record.createdAt).toISOString()}</dd>
  <dt>Expires</dt><dd>${new Date(record.expiresAt).toISOString()}</dd>
  ${record.decidedBy ? html`<dt>Decided</dt><dd>by ${visibleText(record.decidedBy)} via ${record.decidedVia}${record.note ? html`: <q>${visibleText(record.note)}</q>` : ''}</dd>` : ''}
</dl>
<h2>Arguments</h2>
<p class="notice${view.hidden ? ' bad' : ''}" id="arguments-integrity" data-integrity="${view.integrity}">${view.hidden ? html`<strong>Warning:</strong> ` : ''}${INTEGRITY_NOTE[view.integrity]}</p>
<p><small>${view.characters} characters, ${view.lines} lines, all shown below (scroll to read them all). Text outside printable ASCII is shown escaped (<code>\\u202e</code>), so invisible and look-alike characters cannot hide; strings are quoted, numbers are not.</small></p>
<pre class="args" id="arguments">${view.text}</pre>
<p><small>Bound to the arguments hash <code>${record.argsHash}</code>: an approval lets exactly one call with exactly these arguments run. View <code>${view.viewHash}</code>.</small></p>
${forms}
<p><a href="/console/approvals">All approval requests</a></p>`;
  }

  /** Said before anyone presses a button: a decision will need a fresh second factor, and where to get one. */
  function stepUpNotice(c: Context): Raw {
    const link = deps.auth.loginUrl?.(new URL(c.req.url).pathname, { mfa: true });
    return html`<p class="notice bad">Deciding needs a second factor presented in the last ${mfaWindow}.${link ? html` <a href="${link}">Confirm with your second factor</a>, then decide.` : ' You will be asked to sign in again.'}</p>`;
  }

  app.post('/approvals/:id', async (c) => {
    const id = c.req.param('id');
    if (bearer(c)) {
      service.refused(id, { sub: '-', via: 'console' }, ApprovalRefusal.AgentToken, 'a request with an Authorization header tried to decide an approval');
      return refuse(c, 401, 'Not for agents', 'The console does not accept bearer tokens: an agent can never approve anything.');
    }
    // Same-origin form posts only (the CSRF token below is the second check).
    if (c.req.header('origin') !== origin) {
      service.refused(id, { sub: '-', via: 'console' }, ApprovalRefusal.BadCsrf, 'cross-origin or origin-less form post');
      return refuse(c, 403, 'Refused', 'This form can only be sent from the Gatehouse console itself.');
    }
    const found = await who(c);
    if (!found) {
      service.refused(id, { sub: '-', via: 'console' }, ApprovalRefusal.NotSignedIn, 'no console session');
      return signIn(c, false);
    }
    if ('refused' in found) {
      service.refused(id, { sub: '-', via: 'console' }, ApprovalRefusal.ConditionalAccess, found.refused.message);
      return refuse(c, 403, 'Access refused', found.refused.message);
    }
    const { user } = found;
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > MAX_FORM_BYTES) return refuse(c, 413, 'Too large', 'The form is too large.');
    const form = await c.req.parseBody();
    if (!csrf.verify(user.sessionId, id, form.csrf)) {
      service.refused(id, { sub: user.sub, via: 'console', groups: user.groups }, ApprovalRefusal.BadCsrf, 'missing or invalid CSRF token');
      return refuse(c, 403, 'Refused', 'The form has expired. Reload the page and try again.');
    }
    const decision = form.decision === 'approve' ? 'approve' : form.decision === 'deny' ? 'deny' : undefined;
    if (!decision) return refuse(c, 400, 'Refused', 'Choose Approve or Deny.');
    const breakGlass = form.breakGlass === 'on';
    const note = typeof (breakGlass ? form.reason : form.note) === 'string' ? ((breakGlass ? form.reason : form.note) as string).slice(0, 1000) : undefined;
    const acknowledgeHidden = form.acknowledgeHidden === 'on';
    const anyClient = decision === 'approve' && !breakGlass && form.anyClient === 'on';
    const request: DecisionRequest = { decision, breakGlass, note, acknowledgeHidden, anyClient };
    const approver = { sub: user.sub, groups: user.groups, via: 'console' as const, mfaAt: user.mfaAt };
    // Someone who may not make this decision at all is told so before being asked for a
    // second factor (service.decide checks again, atomically, below).
    const record = await service.get(id);
    try {
      if (!record) throw new ApprovalActionError(ApprovalRefusal.NotFound, `No approval request ${id}.`);
      checkDecision(record, approver, request, service.settings, now());
    } catch (error) {
      if (!(error instanceof ApprovalActionError)) throw error;
      service.refused(id, approver, error.reason, error.message, record);
      return refuse(c, statusFor(error), 'Refused', error.message);
    }
    if (!mfaFresh(user)) {
      service.refused(id, approver, ApprovalRefusal.MfaRequired, 'second factor missing or too old', record);
      return signIn(c, true);
    }
    try {
      await service.decide(id, approver, request);
    } catch (error) {
      if (error instanceof ApprovalActionError) return refuse(c, statusFor(error), 'Refused', error.message);
      throw error;
    }
    return c.redirect(`/console/approvals/${encodeURIComponent(id)}?done=${decision === 'approve' ? 'approved' : 'denied'}`, 303);
  });

  return app;
}
