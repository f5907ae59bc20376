import type { Principal } from './principal.js';
import { detailAllows, isToolCallDetail, type ToolCallDetail } from './tool-call-details.js';

/**
 * What a token may reach, from its scopes and authorization details:
 * - `mcp` is the base scope; without it a token reaches nothing at /mcp.
 * - With no `server:`/`tool:` scopes, a token reaches every server (policy still decides).
 * - With any, it is purpose-bound: only `server:<name>` (everything on that server) and
 *   `tool:<server>__<tool>` (that one tool).
 * - `gatehouse_tool_call` authorization details bind it further to those calls (and their
 *   argument bounds); such a token reaches no prompts or resources.
 * Policy can only narrow this; nothing here widens what policy allows.
 */
export interface Reach {
  base: boolean;
  /** undefined: not restricted by scope. */
  servers: ReadonlySet<string> | undefined;
  tools: ReadonlySet<string>;
  /** undefined: not restricted by authorization details. */
  details: readonly ToolCallDetail[] | undefined;
}

export const BASE_SCOPE = 'mcp';
export const serverScope = (server: string): string => `server:${server}`;
export const toolScope = (qualifiedTool: string): string => `tool:${qualifiedTool}`;

export function reachOfScopes(scopes: readonly string[], details?: readonly Record<string, unknown>[]): Reach {
  let servers: Set<string> | undefined;
  const tools = new Set<string>();
  for (const scope of scopes) {
    if (scope.startsWith('server:')) (servers ??= new Set()).add(scope.slice(7));
    else if (scope.startsWith('tool:')) {
      servers ??= new Set();
      tools.add(scope.slice(5));
    }
  }
  // Details of other types are not ours to interpret; they bind nothing here.
  const toolDetails = details?.filter((d): d is ToolCallDetail & Record<string, unknown> => isToolCallDetail(d));
  return { base: scopes.includes(BASE_SCOPE), servers, tools, details: toolDetails };
}

const cache = new WeakMap<Principal, Reach>();

export function reachOf(principal: Principal): Reach {
  let reach = cache.get(principal);
  if (!reach) {
    reach = reachOfScopes(principal.scopes, principal.authorizationDetails);
    cache.set(principal, reach);
  }
  return reach;
}

export interface ReachTarget {
  kind: 'tool' | 'prompt' | 'resource';
  server: string;
  /** For tools: the upstream tool name (for details) … */
  name: string;
  /** … and the qualified `server__tool` (for scopes). */
  id: string;
  args?: Record<string, unknown> | undefined;
}

export type ReachDecision = { ok: true } | { ok: false; reason: 'scope'; missingScope: string } | { ok: false; reason: 'authorization_details' };

const OK = { ok: true } as const;

/** Is the target within the token's reach? The base scope is checked by `hasBaseScope`. */
export function checkReach(principal: Principal, target: ReachTarget, withArgs = true): ReachDecision {
  const reach = reachOf(principal);
  if (!reach.base) return { ok: false, reason: 'scope', missingScope: BASE_SCOPE };
  if (reach.servers !== undefined && !reach.servers.has(target.server) && !(target.kind === 'tool' && reach.tools.has(target.id))) {
    return { ok: false, reason: 'scope', missingScope: target.kind === 'tool' ? toolScope(target.id) : serverScope(target.server) };
  }
  if (reach.details !== undefined) {
    if (target.kind !== 'tool') return { ok: false, reason: 'authorization_details' };
    const allowed = reach.details.some((d) =>
      withArgs ? detailAllows(d, target.server, target.name, target.args) : d.server === target.server && d.tool === target.name,
    );
    if (!allowed) return { ok: false, reason: 'authorization_details' };
  }
  return OK;
}

/** The scope to ask for in a step-up challenge: what the token has plus what is missing (MCP 2025-11-25, scope challenge handling). */
export function stepUpScope(principal: Principal, missing: string): string {
  return [...new Set([...principal.scopes, BASE_SCOPE, missing])].join(' ');
}

/**
 * Is `narrow` (scopes) within `wide`? Used by token exchange: a sub-agent's token may only
 * ever reach less. An unrestricted `wide` contains everything; a restricted one contains
 * only restricted requests whose every server and tool it already reaches.
 */
export function scopesWithin(narrow: readonly string[], wide: readonly string[]): boolean {
  const n = reachOfScopes(narrow);
  const w = reachOfScopes(wide);
  if (n.base && !w.base) return false;
  if (w.servers === undefined) return true;
  if (n.servers === undefined) return false;
  for (const server of n.servers) if (!w.servers.has(server)) return false;
  for (const tool of n.tools) {
    const server = tool.split('__')[0] as string;
    if (!w.tools.has(tool) && !w.servers.has(server)) return false;
  }
  return true;
}
