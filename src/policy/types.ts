import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../tokens/index.js';

/** Policy actions. Part of the interface: Cedar policies name them as Action::"call" etc. */
export type Action = 'call' | 'read' | 'get' | 'list';

export type TargetKind = 'server' | 'tool' | 'resource' | 'prompt';

/** How much human involvement a call needs before it runs. */
export type ApprovalLevel = 'none' | 'confirm' | 'four-eyes';

/** Facts about the request itself (not the target) that policies may read through `context`. */
export interface RequestFacts {
  /** The JSON-RPC method, e.g. `tools/call`. */
  method?: string | undefined;
  /** Source IP of the HTTP request. */
  ip?: string | undefined;
  /** Decision time (ms since epoch); now when absent. */
  now?: number | undefined;
  /** `clientInfo.name` from initialize (self-declared by the client: informative only). */
  clientName?: string | undefined;
  /** Whether an approval for exactly this call is on record (looked up only if a policy reads it). */
  approval?: { granted: boolean; breakGlass: boolean } | undefined;
}

/**
 * What is being asked for. Built from the authenticated principal and the upstream's catalog,
 * never from the agent's say-so alone. `action: 'list'` asks whether an item may be shown in
 * a list: whether the principal could use it (call/get/read) for some arguments.
 */
export interface AuthzRequest {
  principal: Principal;
  action: Action;
  server: string;
  kind: TargetKind;
  /** Qualified id: `server__tool`, `server__prompt`, or the resource URI. */
  id: string;
  args?: Record<string, unknown> | undefined;
  /** Effective annotations (upstream's, overridden by config). */
  annotations?: ToolAnnotations | undefined;
  facts?: RequestFacts | undefined;
}

export type Decision =
  | { effect: 'allow'; policy?: string | undefined; policies?: readonly string[] | undefined }
  | { effect: 'deny'; reason: string; message: string; policy?: string | undefined; policies?: readonly string[] | undefined }
  | {
      effect: 'require_approval';
      reason: string;
      /** `four-eyes`: a second human with the approver role; `confirm`: the requesting human, out of band. */
      level: Exclude<ApprovalLevel, 'none'>;
      policy?: string | undefined;
      policies?: readonly string[] | undefined;
    };

/** The policy decision point. Pure: no I/O, no HTTP, cheap enough to ask for every list item. */
export interface Authorizer {
  decide(request: AuthzRequest): Decision;
  /**
   * A problem with the arguments as the policies see them (e.g. a number sent as a string
   * where the policy schema declares an integer), as a message safe for the agent; checked
   * before `decide` so such a call fails as invalid params, not as a policy decision.
   */
  argumentProblem?(request: AuthzRequest): string | undefined;
  /** True when `decide` reads `context.approval` (the approval must then be looked up first). */
  readonly readsApprovalState?: boolean;
}
