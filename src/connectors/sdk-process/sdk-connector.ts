import { randomUUID } from 'node:crypto';
import { CallToolResultSchema, type Result, type Tool, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ConnectorServerConfig } from '../../config/index.js';
import { createGuardedFetch, EgressGuard, readLimited, type EgressBlockedEvent, type GuardedFetch } from '../../egress/index.js';
import { ConfigError, GatehouseError, InvalidParamsError, MethodNotFoundError, UpstreamError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { callPurpose } from '../../pipeline/index.js';
import type { CallContext } from '../../pipeline/types.js';
import type { Classification } from '../../sanitize/classification.js';
import { maxClassification } from '../../sanitize/classification.js';
import type { HttpAuth, HttpAuthCallContext } from '../http/auth-port.js';
import { contextHeaders } from '../http/context-headers.js';
import type { Catalog } from '../mcp-upstream/catalog.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import type { CredentialRequest, FetchRequest, ToConnector, ToolDeclaration } from '../sdk/messages.js';
import { ConnectorProcessError, type CallServices, type ConnectorProcess } from './connector-process.js';

/** Largest body ctx.fetch hands back to a connector. */
export const CONNECTOR_FETCH_MAX_BYTES = 1024 * 1024;
/** Where a credential request is said to go (the providers key on the server, not the URL). */
const CREDENTIAL_URL = new URL('https://connector.invalid/');

export interface SdkConnectorDeps {
  log: Logger;
  process: ConnectorProcess;
  /** name → provider, only this server's `credentials`. */
  credentials: ReadonlyMap<string, HttpAuth>;
  globalAllow: readonly string[];
  timeoutMs: number;
  /** The sandbox decision, for `status`. */
  sandbox: { on: boolean; reason: string };
  onBlocked?: ((event: EgressBlockedEvent) => void) | undefined;
}

/** What a call did downstream, for the audit record (no secret). */
interface ConnectorDownstream {
  [fact: string]: unknown;
  kind: 'connector';
  credentials: string[];
  requests: { method: string; url: string; status?: number; error?: string }[];
}

const EFFECT_RANK = { read: 0, write: 1, destructive: 2 } as const;

/** The annotations of a declared effect. */
export function effectAnnotations(effect: ToolDeclaration['effect']): ToolAnnotations {
  if (effect === 'read') return { readOnlyHint: true, destructiveHint: false, openWorldHint: true };
  if (effect === 'write') return { readOnlyHint: false, destructiveHint: false, openWorldHint: true };
  return { readOnlyHint: false, destructiveHint: true, openWorldHint: true };
}

/** The effect the configured annotations describe, if they describe one. */
function configuredEffect(annotations: { readOnlyHint?: boolean | undefined; destructiveHint?: boolean | undefined } | undefined) {
  if (!annotations) return undefined;
  if (annotations.destructiveHint === true) return 'destructive';
  if (annotations.readOnlyHint === true) return 'read';
  if (annotations.readOnlyHint === false || annotations.destructiveHint === false) return 'write';
  return undefined;
}

/**
 * A connector written with the SDK, run in its own sandboxed process (ConnectorProcess). It is
 * an executor like every other connector, so each call has passed authentication, policy,
 * approvals, rate limits and argument validation before it gets here, and its result goes
 * through the sanitizer and the audit log after: nothing in the connector's process can skip
 * them. Per call it lends the process exactly this call's credentials and egress.
 */
export class SdkConnector implements Connector {
  readonly kind = 'connector';
  #tools = new Map<string, ToolDeclaration>();
  #catalog: Tool[] = [];
  readonly #guard: EgressGuard;
  readonly #http: GuardedFetch;
  #adoptError: ConfigError | undefined;

  constructor(
    readonly name: string,
    private readonly server: ConnectorServerConfig,
    private readonly deps: SdkConnectorDeps,
  ) {
    this.#guard = new EgressGuard({
      purpose: `connector ${name}`,
      allowHosts: [...server.egress.allow, ...deps.globalAllow],
      allowAddresses: server.egress.allowAddresses,
      onBlocked: deps.onBlocked,
    });
    this.#http = createGuardedFetch({
      guard: this.#guard,
      maxResponseBytes: Number.POSITIVE_INFINITY,
      timeoutMs: deps.timeoutMs,
      redirects: { max: 5, credentialHeaders: [] },
      dangerouslyAllowInsecureTls: server.egress.dangerouslyAllowInsecureTls,
    });
    // Every (re)start announces the tools again: a restarted process may offer a changed list.
    deps.process.onReady = (tools) => {
      this.#adoptError = undefined;
      try {
        this.#adopt(tools);
      } catch (error) {
        if (error instanceof ConfigError) this.#adoptError = error;
        throw error;
      }
    };
  }

  async start(): Promise<void> {
    for (const provider of this.deps.credentials.values()) await provider.start?.();
    await this.deps.process.start();
    if (this.#adoptError) throw this.#adoptError;
  }

  /**
   * Takes the tool list the process announced. Configuration may only tighten a declared
   * effect, and a declared classification raises the configured one (never lowers it).
   */
  #adopt(tools: ToolDeclaration[]): void {
    const issues: { path: string; message: string }[] = [];
    for (const tool of tools) {
      const override = this.server.tools[tool.name];
      const configured = configuredEffect(override?.annotations);
      if (configured && EFFECT_RANK[configured] < EFFECT_RANK[tool.effect])
        issues.push({
          path: `servers.${this.name}.tools.${tool.name}.annotations`,
          message: `the connector declares ${tool.name} "${tool.effect}"; configuration may make it stricter, not "${configured}"`,
        });
      if (tool.classification) {
        const tools = this.server.tools as Record<string, { classification?: Classification | undefined }>;
        const entry = (tools[tool.name] ??= {} as never);
        entry.classification = entry.classification ? maxClassification(entry.classification, tool.classification) : tool.classification;
      }
    }
    if (issues.length > 0) throw new ConfigError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
    this.#tools = new Map(tools.map((t) => [t.name, t]));
    this.#catalog = tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      inputSchema: t.inputSchema as Tool['inputSchema'],
      annotations: effectAnnotations(t.effect),
    }));
  }

  async catalog(_owner: ConnectorOwner): Promise<Catalog> {
    return { tools: this.#catalog, resources: [], resourceTemplates: [], prompts: [] };
  }

  instructions(): string | undefined {
    return undefined;
  }

  async release(): Promise<void> {}

  async stop(): Promise<void> {
    await this.deps.process.stop();
    await this.#http.close().catch(() => undefined);
    for (const provider of this.deps.credentials.values()) await provider.close?.();
  }

  status(): ConnectorStatus {
    const p = this.deps.process;
    return {
      name: this.name,
      kind: this.kind,
      ready: p.state === 'ready',
      detail: {
        kind: this.kind,
        state: p.state,
        ...(p.pid ? { pid: p.pid } : {}),
        sandbox: this.deps.sandbox,
        tools: this.#tools.size,
        restarts: p.restarts,
        ...(p.lastError ? { lastError: p.lastError } : {}),
      },
    };
  }

  async execute(ctx: CallContext): Promise<Result> {
    if (ctx.op.method !== 'tools/call') throw new MethodNotFoundError(ctx.op.method);
    if (!this.#tools.has(ctx.op.name)) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${ctx.op.id}`);
    const downstream: ConnectorDownstream = { kind: 'connector', credentials: [], requests: [] };
    ctx.notes.downstream = downstream;
    const id = randomUUID();
    const purpose = callPurpose(ctx);
    let outcome: Awaited<ReturnType<ConnectorProcess['call']>>;
    try {
      outcome = await this.deps.process.call(
        {
          type: 'call',
          id,
          tool: ctx.op.name,
          args: ctx.op.args ?? {},
          actor: { sub: ctx.principal.sub, groups: [...ctx.principal.groups] },
          purpose,
          requestId: ctx.requestId,
          settings: this.server.settings,
        },
        this.#services(ctx, purpose, downstream),
        ctx.signal,
        this.deps.timeoutMs,
      );
    } catch (error) {
      if (error instanceof ConnectorProcessError) throw new UpstreamError(error.code, error.message);
      throw error;
    }
    if (!outcome.ok) {
      downstream.error = outcome.error.code;
      return { content: [{ type: 'text', text: `The connector failed: ${outcome.error.message}` }], isError: true };
    }
    const checked = CallToolResultSchema.safeParse(outcome.result);
    if (!checked.success) {
      downstream.error = 'connector.invalid_result';
      throw new UpstreamError('connector.invalid_result', `connector ${this.name} returned a malformed tool result`);
    }
    return checked.data;
  }

  #services(ctx: CallContext, purpose: string, downstream: ConnectorDownstream): CallServices {
    const handed: string[] = [];
    const log = this.deps.log;
    return {
      credential: async (request: CredentialRequest): Promise<ToConnector> => {
        const provider = this.deps.credentials.get(request.name);
        if (!provider)
          return {
            type: 'credential.result',
            id: request.id,
            ok: false,
            error: { code: 'connector.unknown_credential', message: `no credential "${request.name}" is configured for connector ${this.name}` },
          };
        const authCtx: HttpAuthCallContext = {
          user: ctx.principal,
          server: this.name,
          tool: ctx.op.name,
          requestId: ctx.requestId,
          signal: ctx.signal,
          client: ctx.client,
        };
        try {
          const credential = await provider.authorize({ method: 'POST', url: CREDENTIAL_URL }, authCtx);
          const headers = { ...credential.headers };
          const query = { ...credential.query };
          handed.push(...Object.values(headers), ...Object.values(query));
          if (!downstream.credentials.includes(request.name)) downstream.credentials.push(request.name);
          return { type: 'credential.result', id: request.id, ok: true, credential: { headers, query } };
        } catch (error) {
          const code = error instanceof GatehouseError ? error.code : 'credentials.unavailable';
          const message = error instanceof GatehouseError ? error.message : `the credential "${request.name}" is not available`;
          return { type: 'credential.result', id: request.id, ok: false, error: { code, message } };
        }
      },
      fetch: async (request: FetchRequest): Promise<ToConnector> => {
        const record: ConnectorDownstream['requests'][number] = { method: request.method, url: '' };
        downstream.requests.push(record);
        let url: URL;
        try {
          url = new URL(request.url);
          record.url = url.origin + url.pathname;
        } catch {
          record.error = 'invalid_url';
          return { type: 'fetch.result', id: request.id, ok: false, error: { code: 'egress.invalid_url', message: 'not a valid URL' } };
        }
        // The call's context headers win: a connector cannot speak for another user.
        const context = contextHeaders(this.server.propagate, { actor: ctx.principal.sub, requestId: ctx.requestId, purpose });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        Object.assign(headers, context);
        // Headers carrying a credential lent to this call never follow a redirect elsewhere.
        const credentialHeaders = Object.entries(headers)
          .filter(([, value]) => handed.some((secret) => secret.length > 0 && value.includes(secret)))
          .map(([name]) => name);
        try {
          const exchange = await this.#http.exchange(
            url,
            { method: request.method, headers, ...(request.body !== undefined ? { body: request.body } : {}), signal: ctx.signal },
            { credentialHeaders },
          );
          const body = await readLimited(exchange.response, CONNECTOR_FETCH_MAX_BYTES, (e) => this.#guard.report(e, exchange.url.host));
          record.status = exchange.response.status;
          return {
            type: 'fetch.result',
            id: request.id,
            ok: true,
            status: exchange.response.status,
            headers: [...exchange.response.headers].filter(([name]) => name !== 'set-cookie').slice(0, 256),
            body: Buffer.from(body).toString('base64'),
          };
        } catch (error) {
          const code = error instanceof GatehouseError ? error.code : 'connector.fetch_failed';
          record.error = code;
          const cause = (error as { cause?: { code?: string } }).cause?.code;
          const message = error instanceof GatehouseError ? error.message : `request to ${url.origin} failed${cause ? `: ${cause}` : ''}`;
          return { type: 'fetch.result', id: request.id, ok: false, error: { code, message: message.slice(0, 2048) } };
        }
      },
      log: (message) => {
        const fields = { server: this.name, requestId: ctx.requestId, connectorFields: message.fields };
        log[message.level](fields, message.message);
      },
    };
  }
}
