import type { ElicitRequest, ElicitResult, Result, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Action, Decision, TargetKind } from '../policy/index.js';
import type { Principal } from '../tokens/index.js';

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
 * Everything one request carries through the stages. Stages read the facts they need and
 * record what they decided (`decision`, `intentSeq`, `notes`); nothing else is shared.
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
  /** Reports progress to the client, when it asked for progress. */
  readonly progress: ((update: ProgressUpdate) => void) | undefined;
  /** Requests to the client (elicitation); absent outside an MCP session. */
  readonly client?: ClientChannel | undefined;
  decision: Decision | undefined;
  /** Sequence number of the durable intent record, once written. */
  intentSeq: number | undefined;
  /** Stage-specific facts for later stages and the audit record (e.g. downstream SQL). */
  readonly notes: Record<string, unknown>;
}

export type Next = () => Promise<Result>;

/** One step of the request path. Calls `next()` to continue, or throws to stop. */
export interface Stage {
  readonly name: string;
  run(ctx: CallContext, next: Next): Promise<Result>;
}

/** Runs a request through the stages. */
export type Pipeline = (ctx: CallContext) => Promise<Result>;
