import { createGuardedFetch, EgressGuard } from '../egress/index.js';
import type { Logger } from '../log/index.js';
import type { ApprovalRecord } from '../storage/index.js';
import { approvalArgumentFields, argumentsView, INTEGRITY_NOTE } from './arguments-view.js';
import { visibleText } from './exact-arguments.js';

export type ApprovalEventType = 'approval.requested' | 'approval.decided' | 'approval.break_glass';

export interface ApprovalEvent {
  type: ApprovalEventType;
  approval: ApprovalRecord;
  /** The console page for this request. */
  url: string;
}

export interface WebhookTarget {
  url: string;
  format: 'json' | 'slack';
  /** Headers with `${VAR}` already resolved. */
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * Gatehouse's own event format. The arguments are the request's one view (arguments-view.ts):
 * `arguments` the exact value (every key, `__proto__` included; a held credential reads
 * `[REDACTED:vault]`), `argumentsText` the rendering people read, `argumentsIntegrity` whether
 * anything is hidden. Never shortened.
 */
export function jsonPayload(event: ApprovalEvent): Record<string, unknown> {
  const a = event.approval;
  const view = argumentsView(a);
  return {
    type: event.type,
    approval: {
      id: a.id,
      status: a.status,
      level: a.level,
      requester: { sub: a.requester.sub, groups: a.requester.groups, client: a.requester.client },
      server: a.server,
      target: a.target,
      method: a.method,
      ...approvalArgumentFields(a, view),
      breakGlass: a.breakGlass,
      url: event.url,
      cli: `gatehouse approvals approve ${a.id} --as <you>${view.hidden ? ' --acknowledge-hidden' : ''}`,
    },
  };
}

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Untrusted text for a Slack message: invisible and look-alike characters escaped, then mrkdwn's. */
const slackText = (text: string): string => slackEscape(visibleText(text));

/** Slack limits a section's text to 3,000 characters: this much of the arguments fits with its fence. */
export const SLACK_MAX_ARGUMENTS = 2800;
const SLACK_MAX_NOTE = 300;

function clipped(text: string, max: number, url: string): string {
  return text.length > max ? `${text.slice(0, max)}… _(first ${max} of ${text.length} characters; <${url}|full text in the console>)_` : text;
}

/**
 * As much of the view as fits in `max` characters of Slack text, escaped for a code block: the
 * view is ASCII with JSON escapes, so a backtick becomes \u0060 (the same character in JSON)
 * and no argument can close the block; `&`, `<` and `>` become entities. `shown` counts the
 * view's characters included.
 */
function fitForSlack(text: string, max: number): { text: string; shown: number } {
  let out = '';
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    const escaped = c === '`' ? '\\u0060' : c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c;
    if (out.length + escaped.length > max) break;
    out += escaped;
  }
  return { text: out, shown: i };
}

/**
 * A Slack incoming-webhook message. Everything that came from the agent is escaped. Slack
 * cannot carry long arguments, so a long view is cut — and the message says so, with the
 * length and a link to the full view; it is never cut silently.
 */
export function slackPayload(event: ApprovalEvent): Record<string, unknown> {
  const a = event.approval;
  const view = argumentsView(a);
  const who = slackText(a.requester.sub);
  const target = slackText(a.target);
  const head =
    event.type === 'approval.requested'
      ? `:lock: *Approval needed* (${a.level}): *${who}* wants to call \`${target}\``
      : event.type === 'approval.break_glass'
        ? `:rotating_light: *BREAK-GLASS*: *${who}* approved their own call to \`${target}\``
        : a.status === 'approved'
          ? `:white_check_mark: *Approved* by *${slackText(a.decidedBy ?? '?')}*: ${who}'s call to \`${target}\`${a.anyClient ? ' (from any of their clients)' : ''}`
          : `:x: *Denied* by *${slackText(a.decidedBy ?? '?')}*: ${who}'s call to \`${target}\``;
  const lines = [head];
  if (a.reason) lines.push(`>Agent's reason: ${clipped(slackText(a.reason), SLACK_MAX_NOTE, event.url)}`);
  if (a.note) lines.push(`>${event.type === 'approval.break_glass' ? 'Break-glass reason' : 'Note'}: ${clipped(slackText(a.note), SLACK_MAX_NOTE, event.url)}`);
  if (view.hidden) lines.push(`:warning: ${slackEscape(INTEGRITY_NOTE[view.integrity])}`);
  const footer: string[] = [];
  if (event.type === 'approval.requested') {
    footer.push(
      `Expires ${new Date(a.expiresAt).toISOString()} · <${event.url}|Review in the console> · \`gatehouse approvals approve ${a.id} --as <you>${view.hidden ? ' --acknowledge-hidden' : ''}\``,
    );
  }
  const fitted = fitForSlack(view.text, SLACK_MAX_ARGUMENTS);
  const args = `Arguments (${view.integrity === 'exact' ? 'exact' : view.integrity === 'masked' ? 'exact except hidden credentials' : view.integrity === 'legacy' ? 'redacted copy' : "DO NOT MATCH the approval's hash"}):\n\`\`\`${fitted.text}\`\`\``;
  const cut =
    fitted.shown < view.text.length
      ? `:scissors: *Arguments shortened here*: the first ${fitted.shown} of ${view.text.length} characters (${view.lines} lines in all) are shown. Read all of them before deciding: <${event.url}|full arguments in the console>.`
      : undefined;
  const text = [...lines, args, ...(cut ? [cut] : []), ...footer].join('\n');
  const blocks = [lines.join('\n'), args, ...(cut ? [cut] : []), ...footer].map((t) => ({ type: 'section', text: { type: 'mrkdwn', text: t } }));
  return { text, blocks };
}

/**
 * The fetch webhooks go through: the egress guard (public addresses only, plus the operator's
 * `egress.allowAddresses`), no redirects, and a small response limit (the body is discarded).
 */
export function webhookFetch(guard: EgressGuard, timeoutMs: number): typeof globalThis.fetch {
  return createGuardedFetch({ guard, maxResponseBytes: 64 * 1024, timeoutMs }).fetch;
}

/**
 * Announces approval events to the configured webhooks (generic JSON or Slack), each with a
 * timeout. Delivery is best effort and never delays or fails the call: a failure is logged
 * and reported to `onFailure` (the audit log).
 */
export class WebhookNotifier {
  readonly #fetch: typeof globalThis.fetch;

  constructor(
    private readonly targets: readonly WebhookTarget[],
    private readonly log: Logger,
    private readonly onFailure: (target: string, event: ApprovalEvent, error: string) => void = () => undefined,
    /** Default: the egress guard with no extra addresses allowed. */
    fetchImpl?: typeof globalThis.fetch,
  ) {
    this.#fetch = fetchImpl ?? webhookFetch(new EgressGuard({ purpose: 'approval webhook' }), Math.max(1000, ...targets.map((t) => t.timeoutMs)));
  }

  notify(event: ApprovalEvent): Promise<void> {
    return Promise.all(this.targets.map((t) => this.#send(t, event))).then(() => undefined);
  }

  async #send(target: WebhookTarget, event: ApprovalEvent): Promise<void> {
    const body = JSON.stringify(target.format === 'slack' ? slackPayload(event) : jsonPayload(event));
    try {
      const response = await this.#fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'gatehouse-approvals', ...target.headers },
        body,
        signal: AbortSignal.timeout(target.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      const message = (error as Error).name === 'TimeoutError' ? `timed out after ${target.timeoutMs} ms` : (error as Error).message;
      const where = new URL(target.url).origin;
      this.log.warn({ webhook: where, event: event.type, approval: event.approval.id, err: message }, 'approval webhook failed');
      this.onFailure(where, event, message);
    }
  }
}
