import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateConfig, type ConfigInput } from '../../src/config/index.js';
import type { Connector } from '../../src/connectors/index.js';
import { assembleGateway, tokenIdentity, type Assembly, type GatewayOptions } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { issueAccessToken } from '../../src/tokens/index.js';

export const PUBLIC_URL = 'http://127.0.0.1:8787';
export const HOST = '127.0.0.1:8787';

/** A whole gateway in process, driven through app.request() — no sockets, no children. */
export class Harness {
  #nextId = 1;
  constructor(
    readonly assembly: Assembly,
    private readonly dir?: string,
  ) {}

  static async create(input: ConfigInput, connectors: Connector[], options: Pick<GatewayOptions, 'consoleAuth'> = {}): Promise<Harness> {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-harness-'));
    const config = validateConfig({ ...input, publicUrl: PUBLIC_URL, dataDir: dir }, 'test', dir, { env: {} });
    const assembly = await assembleGateway(config, {
      log: silentLogger(),
      storage: SqliteStorage.open(dir),
      connectors: new Map(connectors.map((c) => [c.name, c])),
      ...options,
    });
    return new Harness(assembly, dir);
  }

  async token(
    sub: string,
    options: {
      groups?: string[];
      ttlMs?: number;
      clientId?: string;
      scope?: string;
      authorizationDetails?: Record<string, unknown>[];
      extraClaims?: Record<string, unknown>;
    } = {},
  ): Promise<string> {
    const { issuer, audience } = tokenIdentity(PUBLIC_URL);
    const { token } = await issueAccessToken(
      this.assembly.tokenKeys,
      { issuer, audience, maxTtlMs: 15 * 60_000 },
      {
        sub,
        groups: options.groups ?? [],
        ttlMs: options.ttlMs ?? 300_000,
        ...(options.clientId ? { clientId: options.clientId } : {}),
        ...(options.scope !== undefined ? { scope: options.scope } : {}),
        ...(options.authorizationDetails ? { authorizationDetails: options.authorizationDetails } : {}),
        ...(options.extraClaims ? { extraClaims: options.extraClaims } : {}),
      },
    );
    return token;
  }

  request(method: string, headers: Record<string, string>, body?: unknown, rawBody?: string): Promise<Response> {
    return Promise.resolve(
      this.assembly.app.request(`${PUBLIC_URL}/mcp`, {
        method,
        headers: { host: HOST, ...headers },
        ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
  }

  post(token: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(
      'POST',
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body,
    );
  }

  /** initialize + notifications/initialized; returns the session id. */
  async open(token: string, protocolVersion = '2025-11-25'): Promise<string> {
    const res = await this.post(token, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1' } },
    });
    if (res.status !== 200) throw new Error(`initialize: ${res.status} ${await res.text()}`);
    const sid = res.headers.get('mcp-session-id');
    if (!sid) throw new Error('no session id');
    await res.text();
    const note = await this.post(token, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid });
    if (note.status !== 202) throw new Error(`initialized: ${note.status}`);
    return sid;
  }

  /** A JSON-RPC request on a session; returns the parsed single response (JSON or the last SSE event). */
  async rpc(
    token: string,
    sid: string,
    method: string,
    params: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<{ status: number; contentType: string | null; messages: Record<string, unknown>[]; response: Record<string, unknown> }> {
    const res = await this.post(
      token,
      { jsonrpc: '2.0', id: this.#nextId++, method, params },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', ...headers },
    );
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    const messages = contentType?.startsWith('text/event-stream')
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
      : text
        ? [JSON.parse(text) as Record<string, unknown>]
        : [];
    return { status: res.status, contentType, messages, response: messages[messages.length - 1] ?? {} };
  }

  async auditKinds(): Promise<string[]> {
    await this.assembly.audit.flush();
    return (await this.assembly.storage.audit.query({ limit: 10_000 })).map((r) => r.kind);
  }

  async close(): Promise<void> {
    await this.assembly.sessions.closeAll();
    await this.assembly.audit.close();
    await this.assembly.storage.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
