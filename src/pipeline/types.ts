import type { ElicitRequest, ElicitResult, Result, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Action, Decision, TargetKind } from '../policy/index.js';
import type { Principal } from '../tokens/index.js';
import type { CredentialEntitlement } from '../vault/index.js';
import type { Classification } from '../sanitize/classification.js';

/** What a JSON-RPC request asks to do, resolved against the catalog. */
export interface Operation {
  /** The JSON-RPC method, e.g. `tools/call`. */
  method: string;
  action: Action;
  kind: TargetKind;
  /** Configured server name ('*' for aggregate lists). */
  server: string;
  /** Name as the upstream knows it (tool/prompt name, resource URI). */
  name: string;
  /** Qualified id for policy and audit: `server__tool`, `server__prompt`, or the URI. */
  id: string;
  args: Record<string, unknown> | undefined;
  annotations?: ToolAnnotations | undefined;
  /** The tool's declared input schema (JSON Schema), for argument validation. */
  inputSchema?: object | undefined;
}

/**
 * The way back to the client for requests Gatehouse itself makes while handling a call (an
 * elicitation asking the person at the client to confirm it). Related to the call, so it
 * travels on the call's own response stream.
 */
export interface ClientChannel {
  /** Elicitation modes the client declared at initialize. */
  readonly elicitation: { form: boolean; url: boolean };
  elicit(params: ElicitRequest['params'], options: { signal: AbortSignal; timeoutMs: number }): Promise<ElicitResult>;
  /** `notifications/elicitation/complete` for a URL-mode elicitation. */
  elicitationComplete(elicitationId: string): Promise<void>;
  /** The capabilities the client declared: at initialize (session era) or in this request's own `_meta` (stateless). */
  readonly capabilities?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Session era: a server→client request (sampling, elicitation, roots) related to this call,
   * on its response stream. Undefined for a stateless client, which cannot receive one.
   */
  readonly request?: ((method: string, params: unknown, options: { signal: AbortSignal; timeoutMs: number }) => Promise<Record<string, unknown>>) | undefined;
  /**
   * Stateless: seals an upstream's InputRequiredResult state into a `requestState` of
   * Gatehouse's, bound to this caller and this request. Undefined in the session era.
   */
  readonly sealUpstreamState?: ((upstream: { server: string; state?: string | undefined; requests: Record<string, string> }) => string) | undefined;
}

/** Where a request came from: the MCP session and network facts. */
export interface RequestOrigin {
  sessionId: string;
  ip: string | undefined;
  clientName: string | undefined;
  protocolVersion: string | undefined;
}

export interface ProgressUpdate {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/**
 * Facts stages add for later stages and for the outcome audit record (written as `notes`).
 * One declared key per fact, named after what it is, with the stage that adds it: a new stage
 * declares its key here, where a clash with another stage's is a compile error.
 */
export interface CallNotes {
  /** validate: the reason the agent stated for this call (`_meta`), trimmed and capped. Recorded, never trusted. */
  agentReason?: string;
  /** approve: the approval request this call waited on or used. */
  approval?: { id: string; level?: string; created?: boolean; status?: string; by?: string | undefined; [fact: string]: unknown };
  /** approve: why an earlier approval for the same call did not count. */
  previousApproval?: { id: string; status: string; client?: string | undefined };
  /** broker: the just-in-time credential the call used (no secret). */
  lease?: { id: string; resource: string; expiresAt: number; purpose: string };
  /** execute (connectors that reach a downstream system): the real operation, credentials redacted. */
  downstream?: Record<string, unknown>;
  /** sanitize: the redaction report of the result (counts by type and channel, withheld and cut parts; never a value). */
  sanitize?: Record<string, unknown>;
}

/** A stateless retry's verified hold on a request that is waiting for the client's input. */
export interface ResumeClaim {
  readonly pendingId: string;
  /** The client's answers, by the keys of the input requests (validated against their shapes). */
  readonly inputResponses: Readonly<Record<string, unknown>>;
  /** Lets go of the waiting request (the retry was refused before it resumed): its upstream call is cancelled. */
  abandon(reason: string): void;
  /**
   * Set when no request waits in Gatehouse: a stateless upstream asked for the input itself, and
   * the retry goes to it (server `server`) with its own `requestState` and the answers.
   */
  readonly upstream?: { readonly server: string; readonly state?: string | undefined } | undefined;
}

/** Switches that change what a later stage does. Never audited: they are not facts about the call. */
export interface CallControl {
  /** Router: another session still wants updates for this resource, so unsubscribe must not reach the upstream. */
  keepUpstreamSubscription?: boolean;
  /** Router: this stateless retry resumes a request that is waiting for the client's input (see ResumeClaim). */
  resume?: ResumeClaim | undefined;
}

/** What a stage may write on the context. */
export type StageOutput = 'decision' | 'intentSeq' | 'credential' | 'clearance' | `notes.${keyof CallNotes}`;

/**
 * Everything one request carries through the stages. Stages read the facts they need and
 * record what they decided (`decision`, `intentSeq`, `credential`, `notes`); nothing else is
 * shared.
 */
export interface CallContext {
  /** Gateway-assigned id, in every audit record of this request. */
  readonly requestId: string;
  /** The client's JSON-RPC id for this request (server→client requests are related to it). */
  readonly rpcId: string | number;
  readonly principal: Principal;
  readonly origin: RequestOrigin;
  readonly op: Operation;
  /** Params as they will be sent upstream (names already unprefixed). */
  params: Record<string, unknown>;
  /** Aborted when the client cancels or the session closes. */
  readonly signal: AbortSignal;
  readonly startedAt: number;
  /** The W3C `traceparent` HTTP header of the request, when the client sent one (`params._meta.traceparent` wins). */
  readonly traceparent?: string | undefined;
  /** Reports progress to the client, when it asked for progress. */
  readonly progress: ((update: ProgressUpdate) => void) | undefined;
  /** Requests to the client (elicitation); absent outside an MCP session. */
  readonly client?: ClientChannel | undefined;
  decision: Decision | undefined;
  /** Sequence number of the durable intent record, once written. */
  intentSeq: number | undefined;
  /** Stage-specific facts for later stages and the audit record (e.g. downstream SQL). */
  readonly notes: CallNotes;
  /** Switches for later stages, kept apart from the audited facts. */
  readonly control: CallControl;
  /**
   * Set by the sanitize stage: the highest classification the caller may receive. Connectors
   * that can refuse to read data above it at the source (database columns) read it here.
   */
  clearance?: Classification | undefined;
  /**
   * Set by the broker stage for calls entitled to a just-in-time credential; the connector
   * redeems it (Broker.leaseFor) when it is about to touch the downstream system.
   */
  credential?: CredentialEntitlement | undefined;
}

export type Next = () => Promise<Result>;

/** One step of the request path. Calls `next()` to continue, or throws to stop. */
export interface Stage {
  readonly name: string;
  /** What the stage writes on the context; composePipeline refuses two stages that write the same. */
  readonly adds?: readonly StageOutput[];
  run(ctx: CallContext, next: Next): Promise<Result>;
}

/** Runs a request through the stages. */
export type Pipeline = (ctx: CallContext) => Promise<Result>;

/**
 * Watches a pipeline without changing what it does (metrics, traces). `composePipeline` puts
 * the wrappers in place once; a pipeline composed without observers runs its stages unwrapped.
 */
export interface PipelineObserver {
  /** Wraps one stage: the wrapper runs the stage once, with the same context and `next`, and returns or throws what it does. */
  stage?(stage: Stage): Stage;
  /** Wraps the whole call, outside the outermost stage. */
  call?(pipeline: Pipeline): Pipeline;
}
