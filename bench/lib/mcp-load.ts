import { Pool } from 'undici';

/** One Streamable HTTP MCP endpoint to drive: where it is and how to authenticate. */
export interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** Speak the stateless revision (2026-07-28): no initialize, version and client info on every request. */
  stateless?: boolean;
  /**
   * `message` (default): a call ends when its response message has arrived, as in an SDK
   * client (an SSE body is drained in the background); `body`: when the whole HTTP body has.
   */
  until?: 'message' | 'body';
}

const MODERN = '2026-07-28';
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

export interface LoadResult {
  /** Calls completed inside the measured window. */
  calls: number;
  /** Every call completed by the run, warm-up included (for CPU-per-call accounting). */
  allCalls: number;
  errors: number;
  seconds: number;
  callsPerSec: number;
  /** At concurrency 1, throughput is 1 / mean: a long tail shows here, not in p50. */
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The measured window on the monotonic clock (µs, as `process.hrtime`), to match a CPU profile of the server. */
  windowUs: [number, number];
}

const ACCEPT = 'application/json, text/event-stream';

/** Raw HTTP client for MCP: the same bytes for every target, so the load generator costs the same everywhere. */
export class McpHttpSession {
  sessionId: string | undefined;
  protocolVersion = '2025-11-25';
  #nextId = 1;

  private readonly pool: Pool;
  private readonly target: Target;
  private readonly path: string;

  constructor(pool: Pool, target: Target, path: string) {
    this.pool = pool;
    this.target = target;
    this.path = path;
  }

  async #post(
    body: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT, ...this.target.headers, ...extra };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = this.protocolVersion;
    }
    const res = await this.pool.request({ method: 'POST', path: this.path, headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    return { status: res.statusCode, text, headers: res.headers };
  }

  /**
   * A request whose answer is the message carrying `id`: for an SSE body, the call is over once
   * that event has arrived (the rest of the stream is drained in the background, as an SDK
   * client's event-stream reader does); a JSON body is the message.
   */
  async #postUntilMessage(body: unknown, id: number, extra: Record<string, string>): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT, ...this.target.headers, ...extra };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = this.protocolVersion;
    }
    const res = await this.pool.request({ method: 'POST', path: this.path, headers, body: JSON.stringify(body) });
    const type = String(res.headers['content-type'] ?? '');
    if (!type.startsWith('text/event-stream')) return { status: res.statusCode, text: await res.body.text() };
    const marker = `"id":${id}`;
    let text = '';
    res.body.setEncoding('utf8');
    const iterator = res.body[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      text += next.value as string;
      const at = text.indexOf(marker);
      if (at >= 0 && text.indexOf('\n\n', at) >= 0) {
        // The message is complete; the stream's end is the server's business, not the caller's wait.
        void (async () => {
          for (let n = await iterator.next(); !n.done; n = await iterator.next());
        })().catch(() => undefined);
        break;
      }
    }
    return { status: res.statusCode, text };
  }

  async initialize(): Promise<void> {
    // The stateless revision has no handshake: every request stands alone.
    if (this.target.stateless) return;
    const res = await this.#post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: this.protocolVersion, capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    });
    if (res.status !== 200) throw new Error(`${this.target.name}: initialize failed ${res.status}: ${res.text.slice(0, 200)}`);
    const sid = res.headers['mcp-session-id'];
    this.sessionId = Array.isArray(sid) ? sid[0] : sid;
    // Use the version the server chose (JSON or SSE answer alike).
    const negotiated = /"protocolVersion"\s*:\s*"([^"]+)"/.exec(res.text)?.[1];
    if (negotiated) this.protocolVersion = negotiated;
    const note = await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (note.status !== 202 && note.status !== 200) throw new Error(`${this.target.name}: initialized notification failed ${note.status}`);
  }

  /** One tools/call; resolves with the latency in ms, rejects on any error. */
  async call(tool: string, args: Record<string, unknown>): Promise<number> {
    const id = this.#nextId++;
    const start = process.hrtime.bigint();
    const message = this.target.stateless
      ? { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args, _meta: MODERN_META } }
      : { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } };
    const extra: Record<string, string> = this.target.stateless ? { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': tool } : {};
    const res = this.target.until === 'body' ? await this.#post(message, extra) : await this.#postUntilMessage(message, id, extra);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 200 || !res.text.includes('"result"')) throw new Error(`${this.target.name}: call failed ${res.status}: ${res.text.slice(0, 200)}`);
    return ms;
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    const headers: Record<string, string> = { 'mcp-session-id': this.sessionId, ...this.target.headers };
    const res = await this.pool.request({ method: 'DELETE', path: this.path, headers });
    await res.body.dump();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] as number;
}

/** Drives `concurrency` in-flight calls over one session for `durationMs` after a warm-up. */
export async function runLoad(
  target: Target,
  opts: { concurrency: number; durationMs: number; warmupMs: number; tool: string; args: Record<string, unknown> },
): Promise<LoadResult> {
  const url = new URL(target.url);
  // Spare connections: a call may end while its SSE body still drains on its connection, and
  // the next call must not queue behind that (an SDK client's fetch takes another connection).
  const pool = new Pool(url.origin, { connections: opts.concurrency * 2, pipelining: 1, keepAliveTimeout: 60_000 });
  const session = new McpHttpSession(pool, target, url.pathname);
  await session.initialize();
  const latencies: number[] = [];
  let errors = 0;
  let allCalls = 0;
  let firstError: Error | undefined;
  let recording = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        const ms = await session.call(opts.tool, opts.args);
        allCalls++;
        if (recording) latencies.push(ms);
      } catch (error) {
        if (recording) errors++;
        firstError ??= error as Error;
      }
    }
  };
  const workers = Array.from({ length: opts.concurrency }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupMs));
  recording = true;
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, opts.durationMs));
  recording = false;
  const end = process.hrtime.bigint();
  const seconds = Number(end - start) / 1e9;
  stop = true;
  await Promise.all(workers);
  await session.close().catch(() => undefined);
  await pool.close();
  if (latencies.length === 0 && firstError) throw firstError;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    allCalls,
    errors,
    seconds,
    callsPerSec: latencies.length / seconds,
    meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    windowUs: [Number(start / 1000n), Number(end / 1000n)],
  };
}
