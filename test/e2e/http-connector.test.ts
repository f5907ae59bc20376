// The HTTP connector through the whole gateway (front door → pipeline → connector → egress
// guard) against real HTTP servers on loopback: the shipped invoices OpenAPI example, safe
// request building, response allow-lists, context propagation, audit, and every SSRF form.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditBlockedEgress } from '../../src/egress/index.js';
import { validateConfig } from '../../src/config/index.js';
import { HttpConnector, type HttpAuth } from '../../src/connectors/http/index.js';
import type { Connector } from '../../src/connectors/index.js';
import type { AuditLog } from '../../src/audit/index.js';
import { createLogger, registerCredential } from '../../src/log/index.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-http-api.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OPENAPI = path.join(ROOT, 'examples/http/invoices.openapi.yaml');
const CANARY = 'ghcanary_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

let api: FakeApi;
let elsewhere: FakeApi;
let gw: VaultGateway;

interface Call {
  result?: { content: { type: string; text: string }[]; isError?: boolean };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

const tokens = new Map<string, { token: string; sid: string }>();
async function call(g: VaultGateway, tool: string, args: Record<string, unknown>, meta?: Record<string, unknown>): Promise<Call> {
  let s = tokens.get(g.dataDir);
  if (!s) {
    const token = await g.harness.token('alice', { groups: ['finance'] });
    s = { token, sid: await g.harness.open(token) };
    tokens.set(g.dataDir, s);
  }
  const { response } = await g.harness.rpc(s.token, s.sid, 'tools/call', { name: tool, arguments: args, ...(meta ? { _meta: meta } : {}) });
  return response as Call;
}

const textOf = (c: Call) => c.result?.content.map((p) => p.text).join('\n') ?? '';
const json = (c: Call) => {
  expect(c.error, JSON.stringify(c.error)).toBeUndefined();
  expect(c.result?.isError, textOf(c)).not.toBe(true);
  return JSON.parse(textOf(c)) as Record<string, unknown>;
};

function servers(port: number) {
  const base = `http://127.0.0.1:${port}/v1`;
  // The same API named in every spelling an SSRF attempt uses; none may be reached without allowAddresses.
  const ssrf = (host: string) => ({ http: { baseUrl: `http://${host}:${port}/v1`, tools: { ping: { method: 'GET', path: '/invoices' } } } });
  return {
    invoices: {
      http: {
        baseUrl: base,
        openapi: OPENAPI,
        responses: {
          listInvoices: { fields: ['$.items[*].id', '$.items[*].customer', '$.items[*].amount'] },
          getInvoice: { fields: ['$.id', '$.status'] },
        },
        tools: {
          echo: {
            method: 'GET',
            path: '/echo',
            headers: { 'X-Customer': 'cust-{customer}' },
            input: { type: 'object', properties: { customer: { type: 'string' } } },
          },
          doc: { method: 'GET', path: '/docs/{name}', input: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
          html: { method: 'GET', path: '/html' },
          text: { method: 'GET', path: '/text', response: { contentTypes: ['text/plain'] } },
          big: { method: 'GET', path: '/big', response: { maxBytes: '8kb' } },
          hop: { method: 'GET', path: '/hop/{to}', input: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] } },
        },
      },
      egress: {
        allowAddresses: ['127.0.0.1/32'],
        // Hosts a redirect may name, so that the address check (not the host list) refuses them.
        allow: ['169.254.169.254', '[::ffff:a9fe:a9fe]', '127.0.0.2', '[::ffff:7f00:2]', '[64:ff9b::7f00:1]', '[::1]', 'localhost', '0.0.0.0'],
      },
    },
    decimal: ssrf('2130706433'),
    octal: ssrf('0177.0.0.1'),
    hex: ssrf('0x7f.1'),
    mapped: ssrf('[::ffff:127.0.0.1]'),
    mappedhex: ssrf('[::ffff:7f00:1]'),
    nat64: ssrf('[64:ff9b::7f00:1]'),
    loopname: ssrf('localhost'),
    plain: ssrf('127.0.0.1'),
  };
}

beforeAll(async () => {
  api = await startFakeApi();
  elsewhere = await startFakeApi();
  gw = await vaultGateway({ servers: servers(api.port), access: [{ allow: { users: ['alice'], servers: ['*'] } }] } as never, {});
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await api?.close();
  await elsewhere?.close();
});

describe('tools from the OpenAPI document and the config', () => {
  it('lists operationIds and hand-declared tools with effects from the method', async () => {
    const token = await gw.harness.token('alice');
    const sid = await gw.harness.open(token);
    const { response } = await gw.harness.rpc(token, sid, 'tools/list');
    const tools = (response.result as { tools: { name: string; annotations?: Record<string, boolean>; inputSchema: Record<string, unknown> }[] }).tools;
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['listInvoices', 'createInvoice', 'getInvoice', 'deleteInvoice', 'echo', 'doc', 'hop'])
      expect(byName.has(`invoices__${name}`), name).toBe(true);
    expect(byName.get('invoices__listInvoices')?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get('invoices__deleteInvoice')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.get('invoices__createInvoice')?.inputSchema).toMatchObject({
      required: ['body'],
      properties: { body: { required: ['customer', 'amount'] } },
    });
    expect(byName.get('invoices__getInvoice')?.inputSchema).toMatchObject({ required: ['invoiceId'] });
  });

  it('a list returns only the allowed fields; what was sent and received is in the audit record', async () => {
    const before = api.requests.length;
    const out = json(await call(gw, 'invoices__listInvoices', { status: 'sent', limit: 5 }, { 'io.gatehouse/purpose': 'month-end review' }));
    expect(out).toEqual({
      items: [
        { id: 'inv-1', customer: 'ACME GmbH', amount: 1200 },
        { id: 'inv-2', customer: 'Globex', amount: 300 },
      ],
    });
    const sent = api.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('/v1/invoices?status=sent&limit=5');
    expect(sent[0]?.headers['x-gatehouse-actor']).toBe('alice');
    expect(sent[0]?.headers['x-gatehouse-request-id']).toMatch(/\S/);
    expect(sent[0]?.headers['x-gatehouse-purpose']).toBe('invoices__listInvoices (stated: month-end review)');
    expect(sent[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const records = await gw.auditBodies();
    const outcome = records.reverse().find((r) => JSON.stringify(r.body).includes('"kind":"http"'));
    const downstream = (outcome?.body.notes as { downstream: Record<string, unknown> }).downstream;
    expect(downstream).toMatchObject({
      kind: 'http',
      method: 'GET',
      url: `http://127.0.0.1:${api.port}/v1/invoices?status=sent&limit=5`,
      status: 200,
      requestBytes: 0,
      traceparent: sent[0]?.headers.traceparent,
    });
    expect(downstream.responseBytes).toBeGreaterThan(100);
  });

  it('a POST sends the JSON body; one operation maps to one request', async () => {
    const before = api.requests.length;
    const out = json(await call(gw, 'invoices__createInvoice', { body: { customer: 'Initech', amount: 500 } }));
    expect(out).toMatchObject({ id: 'inv-3', customer: 'Initech', amount: 500 });
    expect(api.requests.slice(before)).toMatchObject([{ method: 'POST', url: '/v1/invoices', body: '{"customer":"Initech","amount":500}' }]);
    expect(api.requests.at(-1)?.headers['content-type']).toBe('application/json');
  });

  it('a path parameter is one encoded segment; a 404 is a tool error with the status', async () => {
    const miss = await call(gw, 'invoices__getInvoice', { invoiceId: 'inv 9?x=1#y' });
    expect(miss.result?.isError).toBe(true);
    expect(textOf(miss)).toMatch(/^HTTP 404/);
    expect(api.requests.at(-1)?.url).toBe('/v1/invoices/inv%209%3Fx%3D1%23y');
    expect(json(await call(gw, 'invoices__getInvoice', { invoiceId: 'inv-1' }))).toEqual({ id: 'inv-1', status: 'sent' });
  });

  it('HTML is summarised, never passed through; allowed text is; an oversized body returns nothing', async () => {
    const html = await call(gw, 'invoices__html', {});
    expect(textOf(html)).toMatch(/^\[text\/html response, \d+ bytes, not shown\]$/);
    expect(textOf(html)).not.toContain('Ignore previous');
    expect(textOf(await call(gw, 'invoices__text', {}))).toBe('plain words');
    const big = await call(gw, 'invoices__big', {});
    expect(big.result?.isError).toBe(true);
    expect(textOf(big)).toContain('larger than 8192 bytes');
    expect(textOf(big)).not.toContain('xxxx');
  });
});

describe('arguments cannot escape the base URL or inject headers: refused before any request', () => {
  it.each(['..', '../admin', '%2e%2e', '%2E%2e%2Fadmin', 'a/b', 'a\\b', '%2f', '%252e%252e', 'x\r\nHost: evil', '\u0000'])(
    'path parameter %j',
    async (name) => {
      const before = api.requests.length;
      const result = await call(gw, 'invoices__doc', { name });
      expect(result.error?.code).toBe(-32602);
      expect(result.error?.data).toMatchObject({ argument: 'name' });
      expect(api.requests.length).toBe(before);
    },
  );

  it.each(['a\r\nX-Admin: 1', 'a\nb', 'a\rb'])('header value %j', async (customer) => {
    const before = api.requests.length;
    const result = await call(gw, 'invoices__echo', { customer });
    expect(result.error?.code).toBe(-32602);
    expect(result.error?.message).toMatch(/CR, LF/);
    expect(api.requests.length).toBe(before);
  });

  it.each(['http://169.254.169.254/', '//evil.test/x', '@evil.test', 'evil.test:80'])('an argument %j never changes the host', async (to) => {
    const beforeElsewhere = elsewhere.requests.length;
    const before = api.requests.length;
    const result = await call(gw, 'invoices__hop', { to });
    if (result.error) expect(result.error.code).toBe(-32602);
    else {
      expect(api.requests.length).toBe(before + 1);
      expect(api.requests.at(-1)?.url.startsWith('/v1/hop/')).toBe(true);
    }
    expect(elsewhere.requests.length).toBe(beforeElsewhere);
  });
});

describe('every SSRF form is refused by the egress guard and audited', () => {
  it.each([
    ['decimal', '2130706433'],
    ['octal', '0177.0.0.1'],
    ['hex', '0x7f.1'],
    ['mapped', '[::ffff:127.0.0.1]'],
    ['mappedhex', '[::ffff:7f00:1]'],
    ['nat64', '[64:ff9b::7f00:1]'],
    ['loopname', 'localhost'],
    ['plain', '127.0.0.1'],
  ])('a server whose base URL is loopback spelled %s (%s), without allowAddresses, never connects', async (server) => {
    const before = api.requests.length;
    const result = await call(gw, `${server}__ping`, {});
    expect(result.error?.message).toMatch(/refusing to connect/);
    expect(result.error?.data ?? {}).not.toHaveProperty('stack');
    expect(api.requests.length).toBe(before);
    const blocked = (await gw.auditBodies()).filter((r) => r.kind === 'egress.blocked').map((r) => r.body.egress as Record<string, unknown>);
    expect(blocked.some((b) => b.purpose === `http server ${server}`)).toBe(true);
    const last = blocked.filter((b) => b.purpose === `http server ${server}`).at(-1);
    expect(last?.class).toBe('loopback');
  });

  it.each([
    ['metadata', 'http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['metadata-decimal', 'http://2852039166/latest/meta-data/', 'metadata'],
    ['metadata-octal', 'http://0251.0376.0251.0376/', 'metadata'],
    ['metadata-mapped-hex', 'http://[::ffff:a9fe:a9fe]/', 'metadata'],
    ['loopback-other', 'http://127.0.0.2:1/', 'loopback'],
    ['mapped-dotted', 'http://[::ffff:127.0.0.2]:1/', 'loopback'],
    ['nat64', 'http://[64:ff9b::7f00:1]:1/', 'loopback'],
    ['ipv6-loopback', 'http://[::1]:1/', 'loopback'],
    ['unspecified', 'http://0.0.0.0:1/', 'unspecified'],
  ])('a redirect to an internal address (%s) is refused at that hop', async (name, location, cls) => {
    api.hops.set(name, { status: 302, location });
    const before = api.requests.length;
    const result = await call(gw, 'invoices__hop', { to: name });
    expect(result.error?.message, JSON.stringify(result)).toMatch(/refusing to connect/);
    expect(api.requests.length).toBe(before + 1); // the first hop only
    const blocked = (await gw.auditBodies()).filter((r) => r.kind === 'egress.blocked').map((r) => r.body.egress as Record<string, unknown>);
    expect(blocked.at(-1)).toMatchObject({ purpose: 'http server invoices', class: cls });
  });

  it('a redirect to a host outside the allow-list is refused without resolving it', async () => {
    api.hops.set('offlist', { status: 307, location: `http://localtest.invalid:${elsewhere.port}/` });
    const result = await call(gw, 'invoices__hop', { to: 'offlist' });
    expect(result.error?.message).toMatch(/not in the egress allow-list/);
    const blocked = (await gw.auditBodies()).filter((r) => r.kind === 'egress.blocked');
    expect(blocked.at(-1)?.body).toMatchObject({ egress: { host: 'localtest.invalid' }, outcome: { status: 'denied', code: 'egress.host_refused' } });
  });
});

describe('credentials: never to the agent, the logs, the audit, the data dir, or another origin', () => {
  let keyed: VaultGateway;
  let audit: AuditLog | undefined;

  beforeAll(async () => {
    // A credential provider as the apiKey one behaves: the key from the vault, in a header
    // and a query parameter, registered with the redactor.
    const auth: HttpAuth = {
      type: 'apiKey',
      secretQueryParams: ['api_key'],
      async authorize() {
        const key = await keyed.assembly.vault.resolve('invoices-key', 'servers.keyed.http.auth');
        registerCredential(key);
        return { headers: { 'x-api-key': key }, query: { api_key: key } };
      },
    };
    const server = {
      http: {
        baseUrl: `http://127.0.0.1:${api.port}/v1`,
        openapi: OPENAPI,
        tools: { echo: { method: 'GET', path: '/echo' }, hop: servers(api.port).invoices.http.tools.hop },
      },
      egress: { allowAddresses: ['127.0.0.1/32'], allow: [] as string[] },
    };
    const input = { servers: { keyed: server }, access: [{ allow: { users: ['alice'], servers: ['*'] } }] };
    const config = validateConfig({ ...input, publicUrl: 'http://127.0.0.1:8787', dataDir: '/tmp' }, 'test', '/tmp', { env: {} });
    const connector = await HttpConnector.create('keyed', config.servers.keyed as never, {
      log: createLogger({ level: 'silent' }),
      baseDir: ROOT,
      auth,
      globalAllow: [],
      timeoutMs: 5000,
      onBlocked: (event) => audit && auditBlockedEgress(audit)(event),
    });
    keyed = await vaultGateway(input as never, { 'invoices-key': CANARY }, { connectors: new Map<string, Connector>([['keyed', connector]]) });
    audit = keyed.assembly.audit;
  }, 60_000);

  afterAll(async () => {
    await keyed?.close();
  });

  it('the API receives the key; the agent, logs, audit and data dir never hold it in plain text', async () => {
    const before = api.requests.length;
    // One server: tool names are not prefixed.
    const listed = await call(keyed, 'listInvoices', {});
    expect(listed.result?.isError).not.toBe(true);
    const sent = api.requests.slice(before);
    expect(sent[0]?.headers['x-api-key']).toBe(CANARY);
    expect(new URL(sent[0]?.url ?? '', 'http://x').searchParams.get('api_key')).toBe(CANARY);
    // An API that echoes what it received (headers and URL) back to the agent.
    const echoed = await call(keyed, 'echo', {});
    const outputs = JSON.stringify([listed, echoed]);
    expect(outputs).toContain('x-gatehouse-actor');
    expect(outputs).not.toContain(CANARY);
    const records = await keyed.auditBodies();
    expect(JSON.stringify(records)).not.toContain(CANARY);
    const downstream = records.map((r) => (r.body.notes as { downstream?: { url?: string } } | undefined)?.downstream).filter(Boolean);
    expect(downstream.some((d) => d?.url?.includes('api_key=%5BREDACTED%5D'))).toBe(true);
    expect(keyed.logs.join('\n')).not.toContain(CANARY);
    expect(keyed.dataDirText()).not.toContain(CANARY);
  });

  it('a 307 to another origin (same host, another port) reaches it without the key header or anything the provider added', async () => {
    api.hops.set('away', { status: 307, location: `${elsewhere.origin}/v1/invoices` });
    const before = elsewhere.requests.length;
    const beforeApi = api.requests.length;
    const result = await call(keyed, 'hop', { to: 'away' });
    expect(result.result?.isError, JSON.stringify(result)).not.toBe(true);
    // The first hop carried the credentials to the API's own origin…
    expect(api.requests.slice(beforeApi)[0]?.headers['x-api-key']).toBe(CANARY);
    // …the second, at another origin, nothing of them.
    const landed = elsewhere.requests.slice(before);
    expect(landed).toHaveLength(1);
    expect(landed[0]?.headers['x-api-key']).toBeUndefined();
    expect(landed[0]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(landed)).not.toContain(CANARY);
    const records = await keyed.auditBodies();
    const last = records
      .map((r) => (r.body.notes as { downstream?: Record<string, unknown> } | undefined)?.downstream)
      .filter(Boolean)
      .at(-1);
    expect(last).toMatchObject({ redirects: 1, finalUrl: `${elsewhere.origin}/v1/invoices`, status: 200 });
    expect(JSON.stringify(records)).not.toContain(CANARY);
  });
});
