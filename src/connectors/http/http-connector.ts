import { resolve as pathResolve } from 'node:path';
import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { HttpApiServerConfig } from '../../config/index.js';
import type { HttpResponseRule } from '../../config/http-api-schema.js';
import { createGuardedFetch, EgressGuard, readLimited, type EgressBlockedEvent, type GuardedFetch, type Resolver } from '../../egress/index.js';
import { EgressRefusedError, GatehouseError, InvalidParamsError, MethodNotFoundError, UpstreamError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { callPurpose } from '../../pipeline/index.js';
import type { CallContext } from '../../pipeline/types.js';
import type { Catalog } from '../mcp-upstream/catalog.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import type { HttpAuth, HttpAuthCallContext, HttpCredentials } from './auth-port.js';
import { contextHeaders } from './context-headers.js';
import { startDownstreamSpan } from '../../tracing/index.js';
import { parseJsonPath } from '../../config/http/json-path.js';
import { loadOpenApiTools } from './openapi-tools.js';
import { parsePathTemplate, templateParams } from '../../config/http/path-template.js';
import { redactUrl } from './redact-url.js';
import { buildRequest, type BuiltRequest } from './request-builder.js';
import { shapeResponse } from './response-shaper.js';
import { bindingArgs, parseBinding, type HttpToolSpec, type ResponseRule } from './tool-spec.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_CONTENT_TYPES = ['application/json'];
const CRLF = /[\r\n\u0000]/;

export interface HttpConnectorDeps {
  log: Logger;
  /** Directory relative `openapi` paths are resolved against (the config file's). */
  baseDir: string;
  auth: HttpAuth;
  /** Hosts every server may reach (global `egress.allow`). */
  globalAllow: readonly string[];
  /** Whole-exchange timeout. */
  timeoutMs: number;
  onBlocked?: ((event: EgressBlockedEvent) => void) | undefined;
  /** Tests: a resolver answering for made-up names. */
  resolve?: Resolver | undefined;
}

/** What went over the wire, for the audit record (credentials redacted). */
export interface HttpDownstream {
  [fact: string]: unknown;
  kind: 'http';
  method: string;
  url: string;
  finalUrl?: string | undefined;
  redirects: number;
  status?: number | undefined;
  requestBytes: number;
  responseBytes?: number | undefined;
  contentType?: string | undefined;
  traceparent?: string | undefined;
  retriedAfter401?: boolean | undefined;
  error?: string | undefined;
}

/**
 * A built-in tool runtime for an HTTP API: tools from an OpenAPI document or declared in the
 * config, requests built from arguments that cannot leave the base URL, credentials added by
 * the server's auth provider and never shown to the agent, every connection through the
 * egress guard, and responses reduced to what the agent may see.
 */
export class HttpConnector implements Connector {
  readonly kind = 'http';
  readonly #base: URL;
  readonly #tools: Map<string, HttpToolSpec>;
  readonly #catalog: Tool[];
  readonly #guard: EgressGuard;
  readonly #http: GuardedFetch;
  readonly #skipped: string[];
  #lastError: string | undefined;

  private constructor(
    readonly name: string,
    private readonly server: HttpApiServerConfig,
    private readonly deps: HttpConnectorDeps,
    tools: HttpToolSpec[],
    skipped: string[],
  ) {
    this.#base = new URL(server.http.baseUrl);
    this.#tools = new Map(tools.map((t) => [t.name, t]));
    this.#skipped = skipped;
    this.#catalog = tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as Tool['inputSchema'],
      annotations: { readOnlyHint: t.readOnly, destructiveHint: !t.readOnly, idempotentHint: t.readOnly, openWorldHint: true },
    }));
    this.#guard = new EgressGuard({
      purpose: `http server ${name}`,
      allowHosts: [this.#base.hostname, ...server.egress.allow, ...deps.globalAllow],
      allowAddresses: server.egress.allowAddresses,
      resolve: deps.resolve,
      onBlocked: deps.onBlocked,
    });
    this.#http = createGuardedFetch({
      guard: this.#guard,
      // Bounded per tool while reading (see #send): each tool has its own limit.
      maxResponseBytes: Number.POSITIVE_INFINITY,
      timeoutMs: deps.timeoutMs,
      connectTimeoutMs: server.http.connectTimeout,
      redirects: { max: 5, credentialHeaders: [] },
      dangerouslyAllowInsecureTls: server.egress.dangerouslyAllowInsecureTls,
      connections: 32,
    });
  }

  static async create(name: string, server: HttpApiServerConfig, deps: HttpConnectorDeps): Promise<HttpConnector> {
    const where = `servers.${name}.http`;
    const http = server.http;
    const responseFor = (tool: string, inline?: HttpResponseRule): ResponseRule => resolveRule(http.response, http.responses[tool], inline);
    const tools: HttpToolSpec[] = [];
    let skipped: string[] = [];
    if (http.openapi) {
      const loaded = await loadOpenApiTools(pathResolve(deps.baseDir, http.openapi), { include: http.include, exclude: http.exclude, responseFor }, where);
      tools.push(...loaded.tools);
      skipped = loaded.skipped;
      for (const line of skipped) deps.log.warn({ server: name }, `OpenAPI operation not offered as a tool: ${line}`);
    }
    for (const [toolName, tool] of Object.entries(http.tools)) {
      const path = parsePathTemplate(tool.path);
      const spec: HttpToolSpec = {
        name: toolName,
        description: tool.description || `${tool.method} ${tool.path}`,
        method: tool.method,
        path,
        inputSchema: tool.input as Record<string, unknown>,
        query: Object.entries(tool.query).map(([q, v]) => [q, parseBinding(v)]),
        headers: Object.entries(tool.headers).map(([h, v]) => [h, parseBinding(v)]),
        body: tool.body === undefined ? undefined : { template: tool.body },
        readOnly: tool.method === 'GET' || tool.method === 'HEAD',
        response: responseFor(toolName, tool.response),
        source: 'config',
      };
      const declared = new Set(Object.keys((tool.input as { properties?: object }).properties ?? {}));
      const used = [...templateParams(path), ...spec.query.flatMap(([, b]) => bindingArgs(b)), ...spec.headers.flatMap(([, b]) => bindingArgs(b))];
      const unknown = used.filter((arg) => !declared.has(arg));
      if (unknown.length > 0)
        throw new InvalidParamsError('config.invalid', `${where}.tools.${toolName}: {${unknown.join('}, {')}} not declared in input.properties`);
      const existing = tools.findIndex((t) => t.name === toolName);
      if (existing >= 0) tools.splice(existing, 1);
      tools.push(spec);
    }
    return new HttpConnector(name, server, deps, tools, skipped);
  }

  async catalog(_owner: ConnectorOwner): Promise<Catalog> {
    return { tools: this.#catalog, resources: [], resourceTemplates: [], prompts: [] };
  }

  instructions(): string | undefined {
    return undefined;
  }

  async start(): Promise<void> {
    await this.deps.auth.start?.();
  }

  async release(): Promise<void> {}

  async stop(): Promise<void> {
    await this.#http.close().catch(() => undefined);
    await this.deps.auth.close?.();
  }

  status(): ConnectorStatus {
    return {
      name: this.name,
      kind: this.kind,
      ready: true,
      detail: {
        kind: this.kind,
        baseUrl: this.#base.origin + this.#base.pathname,
        tools: this.#tools.size,
        auth: this.deps.auth.type,
        ...(this.#skipped.length > 0 ? { skippedOperations: this.#skipped.length } : {}),
        ...(this.#lastError ? { lastError: this.#lastError } : {}),
      },
    };
  }

  async execute(ctx: CallContext): Promise<Result> {
    if (ctx.op.method !== 'tools/call') throw new MethodNotFoundError(ctx.op.method);
    const spec = this.#tools.get(ctx.op.name);
    if (!spec) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${ctx.op.id}`);
    // Everything an argument can get wrong is refused here, before any connection.
    const built = buildRequest(spec, this.#base, ctx.op.args ?? {});
    const context = contextHeaders(this.server.http.propagate, { actor: ctx.principal.sub, requestId: ctx.requestId, purpose: callPurpose(ctx) });
    const authCtx: HttpAuthCallContext = {
      user: ctx.principal,
      server: this.name,
      tool: spec.name,
      requestId: ctx.requestId,
      signal: ctx.signal,
      client: ctx.client,
    };
    const downstream: HttpDownstream = {
      kind: 'http',
      method: built.method,
      // Set when sent (with the credential parameters redacted); the built URL has none yet.
      url: '',
      redirects: 0,
      requestBytes: built.body ? Buffer.byteLength(built.body) : 0,
      traceparent: context.traceparent,
    };
    ctx.notes.downstream = downstream;

    // A traced call gets a span per request; its traceparent replaces the standalone one.
    const send = async (credentials: HttpCredentials) => {
      const span = startDownstreamSpan(ctx, `HTTP ${built.method}`, { 'http.request.method': built.method, 'server.address': this.#base.hostname });
      const headers = span && context.traceparent ? { ...context, traceparent: span.traceparent } : context;
      if (headers.traceparent) downstream.traceparent = headers.traceparent;
      try {
        const answer = await this.#send(built, headers, credentials, spec, downstream, ctx.signal);
        span?.end({ httpStatus: answer.status });
        return answer;
      } catch (error) {
        span?.end({ error: error instanceof GatehouseError ? error.code : 'request_failed' });
        throw error;
      }
    };
    let credentials = await this.deps.auth.authorize({ method: built.method, url: built.url }, authCtx);
    let answer = await send(credentials);
    if (answer.status === 401 && this.deps.auth.invalidate && spec.readOnly) {
      await this.deps.auth.invalidate(credentials, authCtx);
      credentials = await this.deps.auth.authorize({ method: built.method, url: built.url }, authCtx);
      downstream.retriedAfter401 = true;
      answer = await send(credentials);
    }
    if ('result' in answer) return answer.result;
    return shapeResponse(answer.status, answer.contentType, answer.body, spec.response);
  }

  async #send(
    built: BuiltRequest,
    context: Record<string, string>,
    credentials: HttpCredentials,
    spec: HttpToolSpec,
    downstream: HttpDownstream,
    signal: AbortSignal,
  ): Promise<{ status: number; contentType: string | null; body: Uint8Array } | { status: number; result: Result }> {
    const url = new URL(built.url.href);
    const secretNames = new Set(this.deps.auth.secretQueryParams);
    for (const [name, value] of Object.entries(credentials.query ?? {})) {
      url.searchParams.set(name, value);
      secretNames.add(name);
    }
    const headers: Record<string, string> = { ...built.headers, ...context };
    for (const [name, value] of Object.entries(credentials.headers ?? {})) {
      // A provider bug must not become header injection.
      if (CRLF.test(value)) throw new UpstreamError('http.credential_invalid', `the credential for ${this.name} is not a valid header value`);
      headers[name.toLowerCase()] = value;
    }
    const credentialHeaders = Object.keys(credentials.headers ?? {}).map((h) => h.toLowerCase());
    downstream.url = redactUrl(url, secretNames);
    let exchange: Awaited<ReturnType<GuardedFetch['exchange']>>;
    try {
      exchange = await this.#http.exchange(
        url,
        {
          method: built.method,
          headers,
          ...(built.body !== undefined ? { body: built.body } : {}),
          signal,
        },
        // The headers this provider added are credentials too: never to another origin.
        { credentialHeaders },
      );
    } catch (error) {
      downstream.error = error instanceof GatehouseError ? error.code : 'request_failed';
      this.#lastError = error instanceof Error ? error.message : String(error);
      if (error instanceof EgressRefusedError) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new UpstreamError('http.request_failed', `request to ${this.#base.origin} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const { response } = exchange;
    downstream.redirects = exchange.redirects;
    if (exchange.redirects > 0) downstream.finalUrl = redactUrl(exchange.url, secretNames);
    downstream.status = response.status;
    downstream.contentType = response.headers.get('content-type') ?? undefined;
    let body: Uint8Array;
    try {
      body = await readLimited(response, spec.response.maxBytes, (e) => this.#guard.report(e, exchange.url.host));
    } catch (error) {
      if (error instanceof EgressRefusedError && error.code === 'egress.response_too_large') {
        downstream.error = error.code;
        return {
          status: response.status,
          result: {
            content: [{ type: 'text', text: `The API's response was larger than ${spec.response.maxBytes} bytes; nothing of it is returned.` }],
            isError: true,
          },
        };
      }
      throw error;
    }
    downstream.responseBytes = body.byteLength;
    this.#lastError = undefined;
    return { status: response.status, contentType: response.headers.get('content-type'), body };
  }
}

function resolveRule(defaults: HttpResponseRule, perTool: HttpResponseRule | undefined, inline: HttpResponseRule | undefined): ResponseRule {
  const merged = { ...defaults, ...perTool, ...inline };
  return {
    fields: merged.fields?.map((f) => parseJsonPath(f)),
    maxBytes: merged.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    contentTypes: merged.contentTypes ?? DEFAULT_CONTENT_TYPES,
  };
}
