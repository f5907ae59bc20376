import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type ClientCapabilities, type Notification, type Progress, type Result } from '@modelcontextprotocol/sdk/types.js';
import { paramHeadersOf } from '../../protocol/param-headers.js';
import { META, MODERN_VERSION } from '../../protocol/revision.js';

/** What `server/discover` tells about a server (2026-07-28 schema, DiscoverResult). */
export interface DiscoverFacts {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  instructions: string | undefined;
}

export interface StatelessCallOptions {
  /** The capabilities Gatehouse declares for this request in `_meta` (the client's own, as far as Gatehouse can relay them). */
  capabilities: ClientCapabilities;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The tool's input schema, for its `Mcp-Param-*` headers (tools/call). */
  inputSchema?: unknown;
  onprogress?: ((progress: Progress) => void) | undefined;
  /** Notifications the server sends on this request's stream (log messages, say). */
  onnotification?: ((notification: Notification) => void) | undefined;
}

/** Methods whose target travels in `Mcp-Name` (streamable-http §standard-request-headers). */
const NAMED: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
/** Visible ASCII without leading or trailing space goes as is; anything else base64 (streamable-http §value-encoding). */
const PLAIN_HEADER = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** A header value as the revision encodes it: plain visible ASCII, else `=?base64?…?=` of its UTF-8. */
export function encodeHeaderValue(value: string): string {
  return PLAIN_HEADER.test(value) && !value.startsWith('=?base64?') ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * A client of the stateless MCP revision (2026-07-28) over Streamable HTTP: no initialize and
 * no session; each request is one POST that carries the protocol version, Gatehouse's client
 * information and the capabilities declared for it in `_meta`, with the `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers mirroring the body. The answer is a JSON
 * body or an event stream that ends with it.
 */
export class StatelessUpstreamClient {
  #nextId = 0;

  constructor(
    private readonly url: URL,
    /** Configured headers (credentials for the upstream); never the agent's token. */
    private readonly headers: Readonly<Record<string, string>>,
    private readonly fetch: FetchLike,
    private readonly clientInfo: { name: string; version: string },
  ) {}

  /**
   * `server/discover`: undefined when the server does not answer it as a server of the
   * revision would (a session-era server refuses it, answers with an error, or not in JSON-RPC).
   */
  async discover(timeoutMs: number, signal?: AbortSignal): Promise<DiscoverFacts | undefined> {
    let result: Result;
    try {
      result = await this.request('server/discover', {}, { capabilities: {}, timeoutMs, signal });
    } catch (error) {
      if (error instanceof McpError) return undefined;
      throw error;
    }
    const versions = (result as { supportedVersions?: unknown }).supportedVersions;
    if (!Array.isArray(versions) || !versions.every((v) => typeof v === 'string')) return undefined;
    const capabilities = (result as { capabilities?: unknown }).capabilities;
    const instructions = (result as { instructions?: unknown }).instructions;
    return {
      supportedVersions: versions as string[],
      capabilities: typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : {},
      instructions: typeof instructions === 'string' ? instructions : undefined,
    };
  }

  /**
   * One request. A JSON-RPC error answer throws McpError with the server's code, message and
   * data (whatever the HTTP status: the revision answers protocol errors with 400); a request
   * that ran out of time throws McpError RequestTimeout.
   */
  async request(method: string, params: Record<string, unknown> | undefined, options: StatelessCallOptions): Promise<Result> {
    const id = ++this.#nextId;
    const given = params ?? {};
    const meta: Record<string, unknown> = {
      ...(typeof given._meta === 'object' && given._meta !== null ? (given._meta as Record<string, unknown>) : {}),
      [META.protocolVersion]: MODERN_VERSION,
      [META.clientInfo]: this.clientInfo,
      [META.clientCapabilities]: options.capabilities,
    };
    if (options.onprogress) meta.progressToken = id;
    const body = { jsonrpc: '2.0', id, method, params: { ...given, _meta: meta } };
    const headers: Record<string, string> = {
      ...this.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': method,
    };
    const field = NAMED[method];
    const target = field ? given[field] : undefined;
    if (typeof target === 'string') headers['mcp-name'] = encodeHeaderValue(target);
    if (method === 'tools/call') Object.assign(headers, paramHeaders(options.inputSchema, given.arguments));

    // The timeout restarts on progress, as the session-era client's does: a long call that reports is alive.
    const timeout = new AbortController();
    let timer = setTimeout(() => timeout.abort(), options.timeoutMs);
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => timeout.abort(), options.timeoutMs);
    };
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    try {
      const response = await this.fetch(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal });
      const type = response.headers.get('content-type') ?? '';
      const onStreamed = (message: StreamMessage) => {
        if (message.method === 'notifications/progress' && message.params?.progressToken === id) {
          rearm();
          const { progressToken: _token, ...progress } = message.params;
          options.onprogress?.(progress as Progress);
        } else options.onnotification?.(message as Notification);
      };
      if (type.includes('text/event-stream') && response.body) return await this.#fromStream(response.body, id, onStreamed);
      const text = await response.text();
      const parsed = parseJson(text);
      if (parsed && isResponseTo(parsed, id)) return answerOf(parsed);
      // Some servers stream a JSON body as one message per line (notifications, then the
      // response): read it as such rather than fail a call the server answered.
      if (!parsed) {
        for (const line of text.split('\n')) {
          const message = parseJson(line);
          if (!message) continue;
          if (isResponseTo(message, id)) return answerOf(message);
          if (typeof message.method === 'string' && message.id === undefined) onStreamed(message);
        }
      }
      throw new McpError(ErrorCode.InternalError, `Unexpected answer to ${method} (HTTP ${response.status})`, { status: response.status });
    } catch (error) {
      if (timeout.signal.aborted && !options.signal?.aborted) throw new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: options.timeoutMs });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads an event stream until the response to `id` (server-sent events: `data:` lines, a blank line ends an event). */
  async #fromStream(body: ReadableStream<Uint8Array>, id: number, notify: (message: StreamMessage) => void): Promise<Result> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
          if (line === '') {
            const message = data.length > 0 ? parseJson(data.join('\n')) : undefined;
            data = [];
            if (!message) continue;
            if (isResponseTo(message, id)) return answerOf(message);
            if (typeof message.method === 'string' && message.id === undefined) notify(message);
          } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
    } finally {
      void reader.cancel().catch(() => undefined);
    }
    throw new McpError(ErrorCode.ConnectionClosed, 'Connection closed: the response stream ended without an answer');
  }
}

interface StreamMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: unknown };
}

function parseJson(text: string): StreamMessage | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as StreamMessage) : undefined;
  } catch {
    return undefined;
  }
}

function isResponseTo(message: StreamMessage, id: number): boolean {
  // A server that cannot read the request at all answers with id null.
  return (message.id === id || message.id === null) && ('result' in message || 'error' in message);
}

function answerOf(message: StreamMessage): Result {
  if (message.error !== undefined) {
    const { code, message: text, data } = message.error;
    throw new McpError(
      typeof code === 'number' && Number.isSafeInteger(code) ? code : ErrorCode.InternalError,
      typeof text === 'string' ? text : 'error',
      data,
    );
  }
  const result = message.result;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new McpError(ErrorCode.InternalError, 'Invalid result: not an object');
  return result as Result;
}

/** `Mcp-Param-{Name}` for each argument the tool's schema marks with `x-mcp-header` (streamable-http §schema-extension). */
function paramHeaders(inputSchema: unknown, args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const spec of paramHeadersOf(inputSchema) ?? []) {
    let value = args;
    for (const key of spec.path)
      value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      headers[`mcp-param-${spec.name.toLowerCase()}`] = encodeHeaderValue(String(value));
  }
  return headers;
}
