import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../tokens/index.js';

/** Policy actions. Part of the interface: Cedar policies name them as Action::"call" etc. */
export type Action = 'call' | 'read' | 'get' | 'list';

export type TargetKind = 'server' | 'tool' | 'resource' | 'prompt';

/** What is being asked for. Built from the authenticated principal and the upstream's catalog, never from the agent's say-so alone. */
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
}

export type Decision =
  | { effect: 'allow'; policy?: string | undefined }
  | { effect: 'deny'; reason: string; message: string; policy?: string | undefined }
  | { effect: 'require_approval'; reason: string; policy?: string | undefined };

/** The policy decision point. Pure: no I/O, no HTTP, cheap enough to ask for every list item. */
export interface Authorizer {
  decide(request: AuthzRequest): Decision;
}
