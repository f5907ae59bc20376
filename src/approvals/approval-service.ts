import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { actorOf, AuditKind, type AuditLog, namedActor, targetOf } from '../audit/index.js';
import type { Logger } from '../log/index.js';
import { heldCredentials } from '../log/index.js';
import type { ApprovalRecord, ApprovalStore, CallKey } from '../storage/index.js';
import { argumentsView, type ArgumentsView } from './arguments-view.js';
import { checkDecision, type DecisionRequest } from './check-decision.js';
import { captureArguments } from './exact-arguments.js';
import { ApprovalActionError, ApprovalRefusal, type ApprovalSettings, type Approver } from './types.js';
import type { ApprovalEvent } from './webhook.js';

/** What audit records say about the arguments view a person was shown (the view itself is in `args` of approval.requested). */
function viewFacts(view: ArgumentsView): Record<string, unknown> {
  return { integrity: view.integrity, hidden: view.hidden, viewHash: view.viewHash, characters: view.characters };
}

/** What a request for approval carries; the service captures the arguments, the store adds id, status and timestamps. */
export type NewApproval = Pick<ApprovalRecord, 'level' | 'requester' | 'server' | 'target' | 'method' | 'argsHash' | 'reason' | 'policy'> & {
  /** The exact arguments of the call, as they go upstream (captured exactly, held credentials masked). */
  args: unknown;
  /** Gateway request id that asked (audit correlation). */
  requestId?: string | undefined;
};

/** Hash mismatch between the call and its captured arguments: a bug, never shown to the agent as anything but an internal error. */
export class ArgumentsCaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentsCaptureError';
  }
}

export type WaitOutcome = { kind: 'decided'; record: ApprovalRecord } | { kind: 'timeout'; record: ApprovalRecord } | { kind: 'cancelled' };

const POLL_MS = 250;

/**
 * Approval requests: creating them (one open request per exact call), deciding them (with
 * every rule checked and every refusal audited), waiting for a decision (in-process events,
 * plus polling the store for decisions made by another process such as the CLI), and using
 * an approval exactly once.
 */
export class ApprovalService {
  readonly #events = new EventEmitter();
  readonly #deliveries = new Set<Promise<void>>();

  constructor(
    private readonly store: ApprovalStore,
    private readonly audit: AuditLog,
    private readonly log: Logger,
    readonly settings: ApprovalSettings,
    private readonly notifier: (event: ApprovalEvent) => Promise<void> | void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.#events.setMaxListeners(0);
  }

  /** Announces an event without delaying the caller; `settled()` waits for deliveries in flight. */
  notify(event: ApprovalEvent): void {
    const delivery = Promise.resolve(this.notifier(event)).catch((error: unknown) =>
      this.log.warn({ err: (error as Error).message }, 'approval notification failed'),
    );
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
  }

  /** Resolves when every announcement started so far has been delivered or given up (short-lived CLI processes wait for it). */
  async settled(): Promise<void> {
    while (this.#deliveries.size > 0) await Promise.all([...this.#deliveries]);
  }

  urlFor(id: string): string {
    return `${this.settings.publicUrl}/console/approvals/${encodeURIComponent(id)}`;
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    return this.store.get(id);
  }

  list(filter: Parameters<ApprovalStore['list']>[0]): Promise<ApprovalRecord[]> {
    return this.store.list(filter);
  }

  /** The record as it reads now: pending or approved past its expiry reads `expired`. */
  effective(record: ApprovalRecord): ApprovalRecord {
    if ((record.status === 'pending' || record.status === 'approved') && record.expiresAt <= this.now()) return { ...record, status: 'expired' };
    return record;
  }

  /**
   * For policies that read `context.approval`: is an approval for exactly this call on record
   * (this user and client — or any client, where the approver chose so — target and arguments)?
   */
  async peek(sub: string, target: string, argsHash: string, client: string | undefined): Promise<{ granted: boolean; breakGlass: boolean }> {
    const usable = await this.store.findUsable({ sub, client, target, argsHash }, this.now());
    return { granted: usable !== undefined, breakGlass: usable?.breakGlass ?? false };
  }

  findUsable(call: CallKey): Promise<ApprovalRecord | undefined> {
    return this.store.findUsable(call, this.now());
  }

  /** The user's latest request for this target and arguments, from any of their clients. */
  latest(call: CallKey): Promise<ApprovalRecord | undefined> {
    return this.store.latest(call);
  }

  /**
   * The open request for this exact call (same user, client, target and arguments), or a new
   * one (announced to approvers). The arguments are captured exactly, from the same canonical
   * JSON the arguments hash is computed over; only credentials Gatehouse holds are masked.
   */
  async request(input: NewApproval): Promise<{ record: ApprovalRecord; created: boolean }> {
    const now = this.now();
    const captured = captureArguments(input.args);
    if (captured.argsHash !== input.argsHash) throw new ArgumentsCaptureError("the captured arguments do not hash to the call's arguments hash");
    const { record, created } = await this.store.createOrGetPending({
      id: `apr_${randomBytes(16).toString('base64url')}`,
      status: 'pending',
      level: input.level,
      requester: input.requester,
      server: input.server,
      target: input.target,
      method: input.method,
      args: captured.node,
      argsFormat: 'exact-v1',
      argsMasked: captured.masked,
      argsHash: input.argsHash,
      // The agent's stated reason is shown to approvers too: no credential Gatehouse holds in it.
      reason: input.reason === undefined ? undefined : heldCredentials.scrubKnown(input.reason),
      policy: input.policy,
      createdAt: now,
      expiresAt: now + this.settings.ttlMs,
      breakGlass: false,
      anyClient: false,
    });
    if (created) {
      const view = argumentsView(record);
      await this.audit.append(
        AuditKind.ApprovalRequested,
        {
          requestId: input.requestId,
          actor: actorOf(
            { sub: record.requester.sub, groups: record.requester.groups, clientId: record.requester.client },
            { sessionId: record.requester.session, ip: record.requester.ip },
          ),
          target: targetOf({ server: record.server, kind: record.method === 'tools/call' ? 'tool' : 'resource', id: record.target }),
          // The same view every approver is shown (src/approvals/arguments-view.ts).
          args: JSON.parse(view.json) as unknown,
          argsHash: record.argsHash,
          approval: {
            id: record.id,
            level: record.level,
            policy: record.policy,
            reason: record.reason,
            expiresAt: record.expiresAt,
            client: record.requester.client,
            arguments: viewFacts(view),
          },
        },
        { durable: true },
      );
      this.notify({ type: 'approval.requested', approval: record, url: this.urlFor(record.id) });
    }
    return { record, created };
  }

  /**
   * A person decides. Every refusal (unknown id, not pending, expired, self-approval, missing
   * role, break-glass without role or reason) is audited as approval.refused and thrown.
   */
  async decide(id: string, approver: Approver, request: DecisionRequest): Promise<ApprovalRecord> {
    const record = await this.store.get(id);
    const at = this.now();
    try {
      if (!record) throw new ApprovalActionError(ApprovalRefusal.NotFound, `No approval request ${id}.`);
      checkDecision(record, approver, request, this.settings, at);
      const decided = await this.store.decide(id, {
        status: request.decision === 'approve' ? 'approved' : 'denied',
        by: approver.sub,
        via: approver.via,
        note: request.note?.trim() || undefined,
        breakGlass: request.decision === 'approve' && request.breakGlass === true,
        anyClient: request.decision === 'approve' && request.anyClient === true,
        at,
      });
      if (!decided) {
        // Lost a race with another decision, or expired in between.
        const now = (await this.store.get(id)) as ApprovalRecord;
        checkDecision(now, approver, request, this.settings, at);
        throw new ApprovalActionError(ApprovalRefusal.NotPending, `Approval request ${id} was already decided.`);
      }
    } catch (error) {
      if (error instanceof ApprovalActionError) this.refused(id, approver, error.reason, error.message, record);
      throw error;
    }
    const updated = (await this.store.get(id)) as ApprovalRecord;
    const breakGlass = updated.breakGlass;
    const view = argumentsView(updated);
    await this.audit.append(
      breakGlass ? AuditKind.ApprovalBreakGlass : AuditKind.ApprovalDecided,
      {
        actor: namedActor(approver.sub, { groups: approver.groups }),
        via: approver.via,
        ...(approver.osUser ? { osUser: approver.osUser } : {}),
        target: { server: updated.server, tool: updated.method === 'tools/call' ? updated.target : undefined },
        argsHash: updated.argsHash,
        approval: {
          id,
          status: updated.status,
          level: updated.level,
          requester: updated.requester.sub,
          note: updated.note,
          breakGlass,
          // Which client the approval releases: the requesting one, or (the approver's explicit choice) any of the requester's.
          client: updated.requester.client,
          anyClient: updated.anyClient,
          arguments: { ...viewFacts(view), ...(view.hidden && updated.status === 'approved' ? { acknowledgedHidden: true } : {}) },
        },
      },
      { durable: true },
    );
    if (breakGlass) {
      this.log.error(
        { approval: id, sub: approver.sub, target: updated.target, reason: updated.note },
        'BREAK-GLASS: a four-eyes request was approved by its own requester',
      );
    } else this.log.info({ approval: id, by: approver.sub, status: updated.status }, 'approval decided');
    this.#events.emit(id, updated);
    this.notify({ type: breakGlass ? 'approval.break_glass' : 'approval.decided', approval: updated, url: this.urlFor(id) });
    return updated;
  }

  /** Audits a refused approval action (also used by the console for refusals before a record is read). */
  refused(
    id: string,
    approver: { sub: string; via: string; groups?: readonly string[] | undefined; osUser?: string | undefined },
    reason: string,
    message: string,
    record?: ApprovalRecord,
  ): void {
    this.audit
      .append(
        AuditKind.ApprovalRefused,
        {
          actor: namedActor(approver.sub, approver.groups ? { groups: approver.groups } : {}),
          via: approver.via,
          ...(approver.osUser ? { osUser: approver.osUser } : {}),
          ...(record ? { target: { server: record.server, tool: record.method === 'tools/call' ? record.target : undefined }, argsHash: record.argsHash } : {}),
          approval: { id, ...(record ? { requester: record.requester.sub, status: this.effective(record).status } : {}) },
          outcome: { status: 'denied', code: reason, message },
        },
        { durable: false },
      )
      .catch(() => undefined);
    this.log.warn({ approval: id, by: approver.sub, via: approver.via, reason }, 'approval action refused');
  }

  /** A call runs on a break-glass approval: say so where operators look first. */
  logBreakGlassUse(record: ApprovalRecord, requestId: string): void {
    this.log.error(
      { approval: record.id, sub: record.requester.sub, target: record.target, reason: record.note, requestId },
      'BREAK-GLASS: running a call its own requester approved',
    );
  }

  /** Uses an approval for the call `requestId` from `client`. True for exactly one caller, and only for a client the approval releases. */
  async consume(record: ApprovalRecord, requestId: string, client: string | undefined): Promise<boolean> {
    const ok = await this.store.consume(record.id, requestId, this.now(), client);
    if (ok) {
      await this.audit.append(
        AuditKind.ApprovalUsed,
        {
          requestId,
          actor: namedActor(record.requester.sub, { client }),
          target: { server: record.server, tool: record.method === 'tools/call' ? record.target : undefined },
          argsHash: record.argsHash,
          approval: { id: record.id, decidedBy: record.decidedBy, breakGlass: record.breakGlass, client: record.requester.client, anyClient: record.anyClient },
        },
        { durable: true },
      );
    }
    return ok;
  }

  /**
   * Waits until the request is decided (or expires), `timeoutMs` passes, or `signal` aborts.
   * Decisions made in this process arrive as events; decisions made by the CLI are seen by
   * polling the store.
   */
  waitForDecision(
    id: string,
    options: { signal: AbortSignal; timeoutMs: number; onTick?: (elapsedMs: number) => void; tickMs?: number },
  ): Promise<WaitOutcome> {
    const started = this.now();
    return new Promise<WaitOutcome>((resolve) => {
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (outcome: WaitOutcome) => {
        if (done) return;
        done = true;
        for (const t of timers) clearInterval(t);
        this.#events.off(id, onEvent);
        options.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const settled = (record: ApprovalRecord) => this.effective(record).status !== 'pending';
      const onEvent = (record: ApprovalRecord) => finish({ kind: 'decided', record });
      const onAbort = () => finish({ kind: 'cancelled' });
      const poll = async () => {
        const record = await this.store.get(id);
        if (done || !record) return;
        if (settled(record)) finish({ kind: 'decided', record: this.effective(record) });
        else if (this.now() - started >= options.timeoutMs) finish({ kind: 'timeout', record });
      };
      this.#events.on(id, onEvent);
      options.signal.addEventListener('abort', onAbort);
      if (options.signal.aborted) return onAbort();
      timers.push(setInterval(() => void poll(), Math.min(POLL_MS, Math.max(10, options.timeoutMs))));
      if (options.onTick) timers.push(setInterval(() => options.onTick?.(this.now() - started), options.tickMs ?? this.settings.progressIntervalMs));
      void poll();
    });
  }
}
