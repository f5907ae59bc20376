import { createGuardedFetch, EgressGuard } from '../egress/index.js';
import type { Logger } from '../log/index.js';
import type { ApprovalRecord } from '../storage/index.js';

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

/** Gatehouse's own event format. Arguments are the redacted copy; the hash binds the exact ones. */
export function jsonPayload(event: ApprovalEvent): Record<string, unknown> {
  const a = event.approval;
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
      arguments: a.args,
      argsHash: a.argsHash,
      reason: a.reason,
      policy: a.policy,
      createdAt: new Date(a.createdAt).toISOString(),
      expiresAt: new Date(a.expiresAt).toISOString(),
      ...(a.decidedAt ? { decidedAt: new Date(a.decidedAt).toISOString(), decidedBy: a.decidedBy, decidedVia: a.decidedVia, note: a.note } : {}),
      breakGlass: a.breakGlass,
      url: event.url,
      cli: `gatehouse approvals approve ${a.id} --as <you>`,
    },
  };
}

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A Slack incoming-webhook message. Everything that came from the agent is escaped. */
export function slackPayload(event: ApprovalEvent): Record<string, unknown> {
  const a = event.approval;
  const who = slackEscape(a.requester.sub);
  const target = slackEscape(a.target);
  const head =
    event.type === 'approval.requested'
      ? `:lock: *Approval needed* (${a.level}): *${who}* wants to call \`${target}\``
      : event.type === 'approval.break_glass'
        ? `:rotating_light: *BREAK-GLASS*: *${who}* approved their own call to \`${target}\``
        : a.status === 'approved'
          ? `:white_check_mark: *Approved* by *${slackEscape(a.decidedBy ?? '?')}*: ${who}'s call to \`${target}\``
          : `:x: *Denied* by *${slackEscape(a.decidedBy ?? '?')}*: ${who}'s call to \`${target}\``;
  const lines = [head];
  if (a.reason) lines.push(`>Agent's reason: ${slackEscape(clip(a.reason, 300))}`);
  if (a.note) lines.push(`>${event.type === 'approval.break_glass' ? 'Break-glass reason' : 'Note'}: ${slackEscape(clip(a.note, 300))}`);
  lines.push(`Arguments: \`${slackEscape(clip(JSON.stringify(a.args), 500))}\``);
  if (event.type === 'approval.requested') {
    lines.push(`Expires ${new Date(a.expiresAt).toISOString()} · <${event.url}|Review in the console> · \`gatehouse approvals approve ${a.id} --as <you>\``);
  }
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
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
