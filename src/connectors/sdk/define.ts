import type { z } from 'zod';

/**
 * The public surface of a connector: what its author writes. Everything here runs inside the
 * connector's own sandboxed process; the gateway sees only the declarations (names, input
 * schemas, effects, classifications) and the results.
 */

/** What a tool does to the system it acts on. The gateway configuration may only make it stricter. */
export type ToolEffect = 'read' | 'write' | 'destructive';
export const TOOL_EFFECTS: readonly ToolEffect[] = ['read', 'write', 'destructive'];

/** Classification of what a tool returns (raises the configured one, never lowers it). */
export type ToolClassification = 'public' | 'internal' | 'confidential' | 'secret';
export const TOOL_CLASSIFICATIONS: readonly ToolClassification[] = ['public', 'internal', 'confidential', 'secret'];

/** Credentials as the gateway's provider gives them for one request: every value is a secret. */
export interface ConnectorCredential {
  /** Header name (lower case) → value, e.g. `authorization: Bearer …`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameter name → value. */
  readonly query: Readonly<Record<string, string>>;
}

/** A log line goes to the gateway's logger, with every credential this call received redacted. */
export interface ConnectorLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ConnectorFetchInit {
  method?: string;
  headers?: Record<string, string>;
  /** A request body as text (JSON: `JSON.stringify(…)`). */
  body?: string;
}

/** Everything a handler may use; valid only while the handler runs. */
export interface ToolContext {
  /** The user the agent acts for. */
  readonly actor: { readonly sub: string; readonly groups: readonly string[] };
  /** The tool and, when the client stated one, its reason. Recorded, never trusted for authorization. */
  readonly purpose: string;
  /** `servers.<name>.settings` from the gateway configuration (no secrets there). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** The gateway's request id (as in the audit log). */
  readonly requestId: string;
  /**
   * A credential configured for this connector (`servers.<name>.credentials.<name>`), for the
   * current actor, fetched from the gateway for this call. Refused outside a running handler.
   */
  credential(name: string): Promise<ConnectorCredential>;
  readonly log: ConnectorLog;
  /**
   * An HTTP request made by the gateway on the connector's behalf: through its egress guard
   * (allow-list, address checks, size and time limits), with the call's context headers
   * (traceparent, X-Gatehouse-Actor, …) added. The connector's process has no network itself.
   */
  readonly fetch: (url: string | URL, init?: ConnectorFetchInit) => Promise<Response>;
  /** Aborted when the agent cancels the call. */
  readonly signal: AbortSignal;
}

/** What a handler returns: text, any JSON value (sent as JSON text), or an MCP tool result. */
export type ToolResult = string | number | boolean | null | Record<string, unknown> | unknown[] | { content: unknown[]; isError?: boolean };

export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description?: string;
  input: S;
  effect: ToolEffect;
  classification?: ToolClassification;
  handler: (ctx: ToolContext, args: z.output<S>) => Promise<ToolResult> | ToolResult;
}

export interface ConnectorDefinition {
  name: string;
  tools: readonly ToolDefinition[];
}

/** Marks objects made by these functions: a module exporting anything else is refused. */
export const DEFINITION = Symbol.for('mcp-gatehouse.connector.definition');

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function checkName(kind: string, name: unknown): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('__'))
    throw new TypeError(`${kind} name ${JSON.stringify(name)}: letters, digits, "-" and "_", starting with a letter, at most 64, no "__"`);
}

export function defineTool<S extends z.ZodType>(tool: ToolDefinition<S>): ToolDefinition<S> {
  checkName('tool', tool.name);
  if (!TOOL_EFFECTS.includes(tool.effect)) throw new TypeError(`tool ${tool.name}: effect must be one of ${TOOL_EFFECTS.join(', ')}`);
  if (tool.classification !== undefined && !TOOL_CLASSIFICATIONS.includes(tool.classification))
    throw new TypeError(`tool ${tool.name}: classification must be one of ${TOOL_CLASSIFICATIONS.join(', ')}`);
  if (typeof tool.handler !== 'function') throw new TypeError(`tool ${tool.name}: handler must be a function`);
  if (typeof (tool.input as { safeParseAsync?: unknown })?.safeParseAsync !== 'function') throw new TypeError(`tool ${tool.name}: input must be a zod schema`);
  return Object.freeze({ ...tool, [DEFINITION]: true });
}

export function defineConnector(connector: ConnectorDefinition): ConnectorDefinition {
  checkName('connector', connector.name);
  const seen = new Set<string>();
  for (const tool of connector.tools) {
    if (!(tool as unknown as Record<symbol, unknown>)[DEFINITION]) throw new TypeError(`connector ${connector.name}: tools must be made with defineTool`);
    if (seen.has(tool.name)) throw new TypeError(`connector ${connector.name}: tool ${tool.name} is defined twice`);
    seen.add(tool.name);
  }
  return Object.freeze({ name: connector.name, tools: Object.freeze([...connector.tools]), [DEFINITION]: true });
}

export function isConnectorDefinition(value: unknown): value is ConnectorDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true;
}
