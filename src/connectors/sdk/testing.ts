import { defineConnector, type ConnectorCredential, type ConnectorDefinition, type ToolContext, type ToolResult } from './define.js';

export interface TestCallOptions {
  actor?: { sub: string; groups?: string[] };
  purpose?: string;
  settings?: Record<string, string | number | boolean>;
  /** Credentials by name, as the gateway would lend them for this call. */
  credentials?: Record<string, Partial<ConnectorCredential>>;
  /** Stands in for the gateway's egress-guarded fetch. */
  fetch?: (url: string, init: { method: string; headers: Record<string, string>; body?: string | undefined }) => Promise<Response> | Response;
  /** Receives the handler's log lines. */
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Runs one tool of a connector in this process, for its author's unit tests: the arguments are
 * validated by the tool's schema and the handler gets a context like the gateway's, with the
 * credentials and fetch given here. In the gateway the handler runs in its own sandboxed process.
 */
export async function callTool(connector: ConnectorDefinition, tool: string, args: unknown, options: TestCallOptions = {}): Promise<ToolResult> {
  defineConnector(connector as ConnectorDefinition);
  const definition = connector.tools.find((t) => t.name === tool);
  if (!definition) throw new Error(`no tool ${tool}`);
  const parsed = await definition.input.safeParseAsync(args);
  if (!parsed.success) throw new Error(`Invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  let active = true;
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => options.log?.(level, message, fields);
  const ctx: ToolContext = {
    actor: { sub: options.actor?.sub ?? 'test-user', groups: options.actor?.groups ?? [] },
    purpose: options.purpose ?? `${connector.name}__${tool}`,
    requestId: 'test-request',
    settings: { ...options.settings },
    signal: new AbortController().signal,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    async credential(name) {
      if (!active) throw new Error('ctx.credential() is only available while the handler runs');
      const found = options.credentials?.[name];
      if (!found)
        throw Object.assign(new Error(`no credential "${name}" is configured for connector ${connector.name}`), { code: 'connector.unknown_credential' });
      return { headers: { ...found.headers }, query: { ...found.query } };
    },
    fetch: async (url, init = {}) => {
      if (!active) throw new Error('ctx.fetch() is only available while the handler runs');
      if (!options.fetch) throw new Error('no fetch given to callTool');
      return options.fetch(String(url), { method: (init.method ?? 'GET').toUpperCase(), headers: { ...init.headers }, body: init.body });
    },
  };
  try {
    return await definition.handler(ctx, parsed.data);
  } finally {
    active = false;
  }
}
