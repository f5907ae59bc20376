import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, startGateway, waitFor, type GatewayProcess } from '../helpers/policy-e2e.js';
import { selfSignedCert } from '../helpers/tls.js';

/** A TCP listener on every loopback address that only counts connections: nothing may reach it. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => count };
}

function authorizeUrl(gw: GatewayProcess, clientId: string): URL {
  const url = new URL(`${gw.url}/oauth/authorize`);
  const params = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:40000/cb',
    scope: 'mcp',
    state: 's',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
    resource: `${gw.url}/mcp`,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

const register = (gw: GatewayProcess, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);

/** A body without Content-Length (chunked): the size is known only by reading it. */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 4096));
      at += 4096;
    },
  });
}

describe('client id metadata documents: no fetch to addresses by number or to this machine', () => {
  let gw: GatewayProcess;
  let listener: Awaited<ReturnType<typeof countingListener>>;

  beforeAll(async () => {
    listener = await countingListener();
    gw = await startGateway({});
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.server.close(resolve));
    await cleanup();
  });

  const forms = (port: number) => [
    `https://[::ffff:127.0.0.1]:${port}/client.json`,
    `https://[::ffff:7f00:1]:${port}/client.json`,
    `https://[::FFFF:7F00:1]:${port}/client.json`,
    `https://[0:0:0:0:0:ffff:127.0.0.1]:${port}/client.json`,
    `https://127.0.0.1:${port}/client.json`,
    `https://127.0.0.1.:${port}/client.json`,
    `https://2130706433:${port}/client.json`,
    `https://0x7f.1:${port}/client.json`,
    `https://0177.0.0.1:${port}/client.json`,
    `https://127.1:${port}/client.json`,
    `https://[::1]:${port}/client.json`,
    `https://[0:0:0:0:0:0:0:1]:${port}/client.json`,
    `https://[::127.0.0.1]:${port}/client.json`,
    `https://[64:ff9b::7f00:1]:${port}/client.json`,
    `https://[2002:7f00:1::]:${port}/client.json`,
    `https://0.0.0.0:${port}/client.json`,
    `https://[::]:${port}/client.json`,
    `https://localhost:${port}/client.json`,
    `https://localhost.:${port}/client.json`,
    `https://app.localhost:${port}/client.json`,
  ];

  it('the authorization endpoint refuses each form with invalid_client, as an error page, and nothing connects', async () => {
    for (const clientId of forms(listener.port)) {
      const res = await fetch(authorizeUrl(gw, clientId), { redirect: 'manual' });
      const page = await res.text();
      expect(res.status, clientId).toBe(400);
      expect(res.headers.get('location'), clientId).toBeNull();
      expect(page, clientId).toContain('invalid_client');
    }
    expect(listener.connections()).toBe(0);
  });

  it('so do pushed authorization requests and the token endpoint', async () => {
    for (const clientId of forms(listener.port).slice(0, 6)) {
      const par = await fetch(`${gw.url}/oauth/par`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: authorizeUrl(gw, clientId).searchParams,
      });
      expect(par.status, clientId).toBeGreaterThanOrEqual(400);
      expect(((await par.json()) as { error: string }).error, clientId).toBe('invalid_client');
      const token = await fetch(`${gw.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'x',
          client_id: clientId,
          code_verifier: 'y'.repeat(43),
          redirect_uri: 'http://127.0.0.1:40000/cb',
        }),
      });
      expect(((await token.json()) as { error: string }).error, clientId).toBe('invalid_client');
    }
    expect(listener.connections()).toBe(0);
  });
});

describe('client metadata documents with the test-only switch on', () => {
  let gw: GatewayProcess;
  let docs: HttpsServer;
  let docsPort: number;
  const served: string[] = [];

  beforeAll(async () => {
    const tls = await selfSignedCert();
    docs = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      served.push(req.url ?? '');
      const origin = `https://127.0.0.1:${docsPort}`;
      if (req.url === '/long-name.json') {
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            client_id: `${origin}/long-name.json`,
            client_name: 'n'.repeat(300),
            redirect_uris: ['http://127.0.0.1:40000/cb'],
            token_endpoint_auth_method: 'none',
          }),
        );
      }
      if (req.url === '/streamed.json') {
        // No Content-Length: 200 KB, chunk by chunk.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"client_id":"${origin}/streamed.json","client_name":"`);
        for (let i = 0; i < 50; i++) res.write('x'.repeat(4096));
        return void res.end('"}');
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
    docsPort = (docs.address() as AddressInfo).port;
    gw = await startGateway({ oauth: { clientMetadataDocuments: { dangerouslyAllowPrivateAddresses: true, caFile: tls.certFile } } });
  });
  afterAll(async () => {
    docs.closeAllConnections();
    await new Promise((resolve) => docs.close(resolve));
    await cleanup();
  });

  it('still refuses cloud metadata addresses in any form, and audits egress.blocked', async () => {
    for (const clientId of [
      'https://169.254.169.254/latest/meta-data/client.json',
      'https://[::ffff:a9fe:a9fe]/client.json',
      'https://2852039166/client.json',
      'https://[fd00:ec2::254]/client.json',
    ]) {
      const res = await fetch(authorizeUrl(gw, clientId), { redirect: 'manual' });
      expect(res.status, clientId).toBe(400);
      expect(await res.text(), clientId).toContain('invalid_client');
    }
    // Records are appended asynchronously and oidc-provider may look a client up more than
    // once: wait for every refused host, not for a count.
    await waitFor(
      () =>
        new Set(
          auditRows(gw.dataDir)
            .filter((r) => r.kind === 'egress.blocked')
            .map((r) => r.body.egress.host),
        ).size >= 3,
      'egress.blocked records',
    );
    const blocked = auditRows(gw.dataDir).filter((r) => r.kind === 'egress.blocked');
    // (oidc-provider may look a client up more than once per request: each lookup is refused.)
    expect([...new Set(blocked.map((r) => `${r.body.egress.host} ${r.body.egress.class} ${r.body.egress.via.join(',')}`))].sort()).toEqual([
      '169.254.169.254 metadata ',
      '[::ffff:a9fe:a9fe] metadata ipv4Mapped',
      '[fd00:ec2::254] metadata ',
    ]);
    expect(blocked.every((r) => r.body.egress.purpose === 'client metadata' && r.body.outcome.code === 'egress.address_refused')).toBe(true);
  });

  it('a document with an oversized field is refused with invalid_client_metadata', async () => {
    const res = await fetch(authorizeUrl(gw, `https://127.0.0.1:${docsPort}/long-name.json`), { redirect: 'manual' });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('invalid_client_metadata');
    expect(page).toContain('client_name is longer than 256 characters');
    expect(served).toContain('/long-name.json');
  });

  it('a document larger than maxBytes is cut off while streaming and refused', async () => {
    const res = await fetch(authorizeUrl(gw, `https://127.0.0.1:${docsPort}/streamed.json`), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_client');
    await waitFor(
      () => auditRows(gw.dataDir).some((r) => r.kind === 'egress.blocked' && r.body.outcome.code === 'egress.response_too_large'),
      'the cut-off in the audit log',
    );
    // (Once per lookup: oidc-provider may look a client up twice in one request.)
    const cut = auditRows(gw.dataDir).filter((r) => r.kind === 'egress.blocked' && r.body.outcome.code === 'egress.response_too_large');
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(cut.every((r) => r.body.egress.host === `127.0.0.1:${docsPort}` || r.body.egress.host === '127.0.0.1')).toBe(true);
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'oauth.client_registered')).toEqual([]);
  });
});

describe('dynamic registration: every field has a limit', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway({});
  });
  afterAll(cleanup);

  const base = { redirect_uris: ['http://127.0.0.1:5000/cb'], token_endpoint_auth_method: 'none' };
  const key = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
  const oversized: [string, Record<string, unknown>, string][] = [
    ['a 300-character client_name', { ...base, client_name: 'n'.repeat(300) }, 'client_name is longer than 256 characters'],
    [
      '21 redirect URIs',
      { ...base, redirect_uris: Array.from({ length: 21 }, (_, i) => `http://127.0.0.1:5000/cb${i}`) },
      'redirect_uris has more than 20 entries',
    ],
    ['a 3000-character redirect URI', { ...base, redirect_uris: [`http://127.0.0.1:5000/${'p'.repeat(3000)}`] }, 'redirect_uris has an entry longer than 2048'],
    ['11 contacts', { ...base, contacts: Array.from({ length: 11 }, (_, i) => `c${i}@example.com`) }, 'contacts has more than 10 entries'],
    ['a 5000-character contact', { ...base, contacts: [`${'a'.repeat(5000)}@example.com`] }, 'contacts has an entry longer than 254'],
    ['a long logo_uri', { ...base, logo_uri: `https://x.example/${'l'.repeat(3000)}` }, 'logo_uri is longer than 2048'],
    ['a long scope', { ...base, scope: 's '.repeat(800) }, 'scope is longer than 1024'],
    ['a long software_id', { ...base, software_id: 'i'.repeat(300) }, 'software_id is longer than 256'],
    ['an unrecognised field of 3000 characters', { ...base, x_note: 'x'.repeat(3000) }, 'x_note is longer than 2048'],
    ['11 jwks keys', { ...base, jwks: { keys: Array.from({ length: 11 }, () => key) } }, 'jwks has more than 10 keys'],
  ];

  it.each(oversized)('refuses %s with invalid_client_metadata', async (_name, metadata, description) => {
    const res = await register(gw, JSON.stringify(metadata));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining(description) });
  });

  it('holds every spelling of the registration path and of the JSON content type to the same limits', async () => {
    const body = JSON.stringify({ ...base, x_note: 'x'.repeat(3000) });
    for (const path of ['/oauth/REGISTER', '/oauth/Register', '/oauth/register/', '/oauth/%72egister', '/oauth/./register', '/oauth/register?x=1']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toEqual({
        error: 'invalid_client_metadata',
        error_description: 'client metadata field x_note is longer than 2048 characters',
      });
    }
    for (const type of ['application/JSON', 'application/json; charset=utf-8', 'Application/Json;charset=UTF-8']) {
      const res = await fetch(`${gw.url}/oauth/register`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(res.status, type).toBe(400);
      expect(((await res.json()) as { error: string }).error, type).toBe('invalid_client_metadata');
    }
  });

  it('refuses a 55 KB client_name before reading the body (Content-Length) and after reading it (chunked)', async () => {
    const body = JSON.stringify({ ...base, client_name: 'n'.repeat(55 * 1024) });
    const declared = await register(gw, body);
    expect(declared.status).toBe(400);
    expect(await declared.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'client metadata is larger than 16384 bytes' });
    const streamed = await register(gw, chunked(body));
    expect(streamed.status).toBe(400);
    expect(await streamed.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'client metadata is larger than 16384 bytes' });
  });

  it('/healthz stays responsive while oversized registrations run, and none is registered', async () => {
    const body = JSON.stringify({ ...base, client_name: 'n'.repeat(55 * 1024), contacts: Array.from({ length: 10 }, () => `${'a'.repeat(240)}@example.com`) });
    const attacks = Array.from({ length: 12 }, (_, i) =>
      register(gw, i % 2 ? chunked(body) : body).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: string } })),
    );
    const started = Date.now();
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    // A generous bound: a healthy gateway answers in milliseconds.
    expect(Date.now() - started).toBeLessThan(5000);
    const results = await Promise.all(attacks);
    expect(results.every((r) => r.status === 400 && r.body.error === 'invalid_client_metadata')).toBe(true);
    const ok = await register(gw, JSON.stringify({ ...base, client_name: 'Ordinary client' }));
    expect(ok.status).toBe(201);
    await waitFor(() => auditRows(gw.dataDir).some((r) => r.kind === 'oauth.client_registered'), 'the ordinary registration');
    expect(
      auditRows(gw.dataDir)
        .filter((r) => r.kind === 'oauth.client_registered')
        .map((r) => r.body.client.name),
    ).toEqual(['Ordinary client']);
  });
});
