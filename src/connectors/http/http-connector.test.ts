import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/index.js';
import { silentLogger } from '../../log/index.js';
import type { CallContext } from '../../pipeline/types.js';
import type { HttpAuth, HttpCredentials } from './auth-port.js';
import { HttpConnector, type HttpDownstream } from './http-connector.js';

let server: Server;
let port: number;
let seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let validKey = 'key-2';

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.headers['x-api-key'] !== validKey) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"expired"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"inv-1","secretField":"s"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  validKey = 'key-2';
});

function serverConfig(http: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-http-'));
  const config = validateConfig(
    { servers: { api: { http: { baseUrl: `http://127.0.0.1:${port}/v1`, ...http }, egress: { allowAddresses: ['127.0.0.1/32'] } } } },
    'test',
    dir,
    { env: {} },
  );
  return { server: config.servers.api as never, dir };
}

function context(name: string, args: Record<string, unknown>): CallContext {
  return {
    requestId: 'req-1',
    rpcId: 1,
    principal: {
      sub: 'alice',
      groups: [],
      clientId: 'c',
      scopes: [],
      jti: 'j',
      issuedAt: 0,
      expiresAt: 0,
      act: [],
      authorizationDetails: undefined,
      authTime: undefined,
      amr: [],
      grantId: undefined,
      dpopJkt: undefined,
      claims: {},
    },
    origin: { sessionId: 's', ip: undefined, clientName: undefined, protocolVersion: undefined },
    op: { method: 'tools/call', action: 'call', kind: 'tool', server: 'api', name, id: `api__${name}`, args },
    params: { name, arguments: args },
    signal: new AbortController().signal,
    startedAt: Date.now(),
    progress: undefined,
    decision: undefined,
    intentSeq: undefined,
    notes: {},
    control: {},
  };
}

/** A provider with a cached key that goes stale: the first key is already revoked at the API. */
function rotatingAuth(): HttpAuth & { invalidations: HttpCredentials[]; calls: number } {
  let key = 'key-1';
  const auth = {
    type: 'apiKey',
    secretQueryParams: [],
    invalidations: [] as HttpCredentials[],
    calls: 0,
    async authorize() {
      auth.calls++;
      return { headers: { 'x-api-key': key } };
    },
    async invalidate(used: HttpCredentials) {
      auth.invalidations.push(used);
      key = 'key-2';
    },
  };
  return auth;
}

async function connector(http: Record<string, unknown>, auth: HttpAuth) {
  const { server: config, dir } = serverConfig(http);
  return HttpConnector.create('api', config, { log: silentLogger(), baseDir: dir, auth, globalAllow: [], timeoutMs: 5000 });
}

describe('HTTP connector', () => {
  it('a 401 on a read drops the cached credential and retries once, recorded in the audit facts', async () => {
    const auth = rotatingAuth();
    const c = await connector({ tools: { get: { method: 'GET', path: '/invoices/1', response: { fields: ['$.id'] } } } }, auth);
    const ctx = context('get', {});
    const result = await c.execute(ctx);
    expect(result).toEqual({ content: [{ type: 'text', text: '{"id":"inv-1"}' }] });
    expect(seen.map((s) => s.headers['x-api-key'])).toEqual(['key-1', 'key-2']);
    expect(auth.invalidations).toEqual([{ headers: { 'x-api-key': 'key-1' } }]);
    expect(ctx.notes.downstream as unknown as HttpDownstream).toMatchObject({ method: 'GET', status: 200, retriedAfter401: true });
    await c.stop();
  });

  it('a 401 on a write is not retried (it may have acted): the agent gets the status', async () => {
    const auth = rotatingAuth();
    const c = await connector({ tools: { create: { method: 'POST', path: '/invoices', body: { a: 1 } } } }, auth);
    const result = await c.execute(context('create', {}));
    expect(result).toMatchObject({ isError: true, content: [{ text: 'HTTP 401: {"error":"expired"}' }] });
    expect(seen).toHaveLength(1);
    expect(auth.invalidations).toHaveLength(0);
    await c.stop();
  });

  it('a call refused while getting its credential records no downstream request (none was sent)', async () => {
    const refused = Object.assign(new Error('connect first'), { code: 'connection.required' });
    const c = await connector(
      { tools: { get: { method: 'GET', path: '/x' } } },
      {
        type: 'x',
        secretQueryParams: [],
        authorize: async () => {
          throw refused;
        },
      },
    );
    const ctx = context('get', {});
    await expect(c.execute(ctx)).rejects.toBe(refused);
    expect(ctx.notes.downstream).toBeUndefined();
    expect(seen).toHaveLength(0);
    await c.stop();
  });

  it('a credential value with CR/LF from a broken provider is refused, not sent', async () => {
    const c = await connector(
      { tools: { get: { method: 'GET', path: '/x' } } },
      { type: 'x', secretQueryParams: [], authorize: async () => ({ headers: { 'x-api-key': 'k\r\nX-Evil: 1' } }) },
    );
    await expect(c.execute(context('get', {}))).rejects.toMatchObject({ code: 'http.credential_invalid' });
    expect(seen).toHaveLength(0);
    await c.stop();
  });

  it('a hand-declared tool that uses an undeclared argument is a start-up error', async () => {
    await expect(connector({ tools: { get: { method: 'GET', path: '/invoices/{id}' } } }, rotatingAuth())).rejects.toThrow(
      /\{id\} not declared in input.properties/,
    );
  });

  it('OpenAPI: include must name existing operations; Swagger 2.0 and remote references are refused', async () => {
    const { dir } = serverConfig({ tools: { x: { method: 'GET', path: '/x' } } });
    const doc = (body: string) => {
      const file = path.join(dir, `doc-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, body);
      return file;
    };
    const minimal = doc(
      'openapi: 3.0.3\ninfo: { title: t, version: "1" }\npaths:\n  /a:\n    get:\n      operationId: getA\n      responses: { "200": { description: ok } }\n',
    );
    await expect(connector({ openapi: minimal, include: ['getB'] }, rotatingAuth())).rejects.toThrow(
      /include names operations the document does not have: getB/,
    );
    const swagger = doc('swagger: "2.0"\ninfo: { title: t, version: "1" }\npaths: {}\n');
    await expect(connector({ openapi: swagger }, rotatingAuth())).rejects.toThrow(/OpenAPI/);
    const remote = doc(
      `openapi: 3.0.3\ninfo: { title: t, version: "1" }\npaths:\n  /a:\n    get:\n      operationId: getA\n      parameters: [{ $ref: "http://127.0.0.1:${port}/param.yaml" }]\n      responses: { "200": { description: ok } }\n`,
    );
    await expect(connector({ openapi: remote }, rotatingAuth())).rejects.toThrow();
    expect(seen).toHaveLength(0);
    const c = await connector({ openapi: minimal }, rotatingAuth());
    expect((await c.catalog({ sub: 'a', sessionId: 's' })).tools.map((t) => t.name)).toEqual(['getA']);
    await c.stop();
  });
});
