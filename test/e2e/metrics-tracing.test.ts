// Production metrics and traces through a real gateway process: /metrics on its own listener
// (counters after real calls, refused on the agent's port, no user name, token or argument in
// it), and OpenTelemetry spans exported to an OTLP/HTTP receiver in this test, with the
// client's traceparent as the parent and the trace carried on to both kinds of upstream.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, connectClient, freePort, type GatewayProcess, NODE, ROOT, startGateway, tempDir, text, waitFor } from '../helpers/e2e.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-http-api.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';

const RECORDER = path.join(ROOT, 'test/fixtures/recording-server.mjs');
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const HEADER_TRACE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ARG_CANARY = 'arg-canary-5c1d9e';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** A tiny OTLP/HTTP (JSON) receiver: keeps every span it is sent. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; bodies: string[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const parsed = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let api: FakeApi;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let gw: GatewayProcess;
let metricsPort: number;
let record: string;
let token: string;
let exposition = '';
let metricsContentType = '';

beforeAll(async () => {
  api = await startFakeApi();
  otlp = await startOtlpReceiver();
  metricsPort = await freePort();
  const dir = tempDir('gh-e2e-metrics-');
  record = path.join(dir, 'calls.jsonl');
  gw = await startGateway({
    config: {
      servers: {
        rec: { command: NODE, args: [RECORDER, record, '--meta'], sandbox: { writable: [dir] } },
        invoices: {
          http: {
            baseUrl: `${api.origin}/v1`,
            tools: {
              list_invoices: { method: 'GET', path: '/invoices' },
              hop: { method: 'GET', path: '/hop/{to}', input: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] } },
            },
          },
          egress: { allowAddresses: ['127.0.0.1/32'] },
        },
      },
      access: [{ allow: { users: ['alice'], servers: ['rec', 'invoices'] } }],
      rateLimits: { tools: { rec__add: { burst: '2/m' } } },
      metrics: { listen: { host: '127.0.0.1', port: metricsPort } },
      tracing: { exporter: 'otlp-http', endpoint: otlp.url, serviceName: 'gatehouse-e2e' },
    },
  });
  token = await gw.token('alice', { groups: ['finance'] });

  const client = await connectClient(gw, token);
  const meta = { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` };
  expect(text(await client.callTool({ name: 'rec__add', arguments: { a: 1, note: ARG_CANARY }, _meta: meta }))).toBe('ran add');
  expect(text(await client.callTool({ name: 'rec__add', arguments: { a: 2 } }))).toBe('ran add');
  // The third call to rec__add within a minute is over its burst limit.
  await expect(client.callTool({ name: 'rec__add', arguments: { a: 3 } })).rejects.toThrow(/Rate limit exceeded/);
  expect(text(await client.callTool({ name: 'invoices__list_invoices', arguments: {}, _meta: meta }))).toContain('inv-1');
  // A redirect to the cloud metadata address: the egress guard refuses it.
  api.hops.set('imds', { status: 302, location: 'http://169.254.169.254/latest/meta-data/' });
  const blocked = await client.callTool({ name: 'invoices__hop', arguments: { to: 'imds' } }).catch((error: Error) => error);
  expect(JSON.stringify(blocked instanceof Error ? blocked.message : blocked)).toMatch(/egress|refused|not allowed/i);

  // A client that sends its trace context only as an HTTP header.
  const headerClient = new Client({ name: 'header-client', version: '1.0.0' });
  await headerClient.connect(
    new StreamableHTTPClientTransport(new URL(gw.mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}`, traceparent: `00-${HEADER_TRACE}-${CLIENT_SPAN}-01` } },
    }),
  );
  expect(text(await headerClient.callTool({ name: 'rec__echo', arguments: {} }))).toBe('ran echo');

  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(response.status).toBe(200);
  metricsContentType = response.headers.get('content-type') ?? '';
  exposition = await response.text();
  await headerClient.close();
  await client.close();
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await api?.close();
  await otlp?.close();
  await cleanup();
});

describe('/metrics on its own listener', () => {
  it('shows the calls by server, tool, decision and outcome, in the Prometheus text format', () => {
    expect(metricsContentType).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const s = parseExposition(exposition);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'rec', tool: 'rec__add', decision: 'allow', outcome: 'ok' })).toBe(2);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'rec', tool: 'rec__add', decision: 'allow', outcome: 'denied' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'invoices', tool: 'invoices__list_invoices', outcome: 'ok' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_rate_limited_total', { limit: 'tool.burst' })).toBe(1);
  });

  it('announces the metrics port when ready', () => {
    expect(gw.logs().find((line) => line.msg === 'gatehouse ready')?.metricsPort).toBe(metricsPort);
  });

  it('has per-stage latency, upstream latency, audit commits and sessions', () => {
    const s = parseExposition(exposition);
    for (const stage of ['audit-outcome', 'token-scope', 'validate', 'authorize', 'rate-limit', 'approve', 'audit-intent', 'broker', 'sanitize', 'execute']) {
      expect(sampleValue(s, 'gatehouse_stage_duration_seconds_count', { stage }), stage).toBeGreaterThanOrEqual(4);
    }
    // The refused call stopped at rate-limit: execute ran for the five others only.
    expect(sampleValue(s, 'gatehouse_stage_duration_seconds_count', { stage: 'execute' })).toBe(5);
    expect(sampleValue(s, 'gatehouse_upstream_duration_seconds_count', { server: 'rec' })).toBe(3);
    expect(sampleValue(s, 'gatehouse_upstream_duration_seconds_count', { server: 'invoices' })).toBe(2);
    expect(sampleValue(s, 'gatehouse_audit_commit_duration_seconds_count', { result: 'ok' })).toBeGreaterThan(0);
    expect(sampleValue(s, 'gatehouse_audit_batch_records_sum')).toBeGreaterThanOrEqual(5);
    expect(sampleValue(s, 'gatehouse_sessions')).toBe(2);
    expect(sampleValue(s, 'gatehouse_approvals_pending')).toBe(0);
  });

  it('counts redactions by detector type, without what was redacted', () => {
    const s = parseExposition(exposition);
    // The invoices API answers with two contact e-mail addresses; the sanitizer redacts both.
    expect(sampleValue(s, 'gatehouse_redactions_total', { type: 'email', channel: 'result' })).toBe(2);
    expect(exposition).not.toContain('acme.test');
    expect(exposition).not.toContain('globex');
  });

  it('counts the egress block and the failed upstream call it caused, without the address', () => {
    const s = parseExposition(exposition);
    // Refused by the host allow-list, before any address was looked up.
    expect(s.filter((x) => x.name === 'gatehouse_egress_blocked_total')).toEqual([
      { name: 'gatehouse_egress_blocked_total', labels: { class: 'none', code: 'egress.host_refused' }, value: 1 },
    ]);
    expect(sampleValue(s, 'gatehouse_upstream_errors_total', { server: 'invoices', code: 'egress.host_refused' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'invoices', tool: 'invoices__hop', outcome: 'error' })).toBe(1);
    expect(s.filter((x) => x.name === 'gatehouse_upstream_errors_total' && x.labels.server === 'invoices').map((x) => x.value)).toEqual([1]);
    expect(exposition).not.toContain('169.254');
    expect(exposition).not.toContain('imds');
  });

  it('holds no user name, token, argument value or session id', () => {
    expect(exposition).not.toContain('alice');
    expect(exposition).not.toContain('finance');
    expect(exposition).not.toContain(token);
    expect(exposition).not.toContain(token.split('.')[2] as string);
    expect(exposition).not.toContain(ARG_CANARY);
    expect(exposition).not.toContain(CLIENT_TRACE);
  });

  it('is not served on the agent listener, with or without the agent token', async () => {
    for (const headers of [{ authorization: `Bearer ${token}` }, {}] as Record<string, string>[]) {
      const response = await fetch(`${gw.url}/metrics`, { headers });
      expect(response.status).not.toBe(200);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(await response.text()).not.toContain('gatehouse_calls_total');
    }
  });

  it('answers only GET /metrics on the metrics listener, whatever token comes with it', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    const mcp = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(mcp.status).toBe(404);
    expect(await mcp.text()).not.toContain('rec__add');
    expect((await fetch(`${base}/metrics`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('OpenTelemetry traces', () => {
  let spans: OtlpSpan[] = [];
  const hex = (id: string | undefined) => (id && !/^[0-9a-f]*$/.test(id) ? Buffer.from(id, 'base64').toString('hex') : (id ?? ''));
  const inTrace = (traceId: string) => spans.filter((s) => hex(s.traceId) === traceId);
  const child = (of: OtlpSpan, name: string) => spans.find((s) => hex(s.parentSpanId) === hex(of.spanId) && s.name === name);

  beforeAll(async () => {
    // Stopping the gateway exports the spans still queued.
    await gw.stop();
    spans = await waitFor(() => otlp.spans.length > 0 && otlp.spans, 'spans at the OTLP receiver', 15_000);
  }, 30_000);

  it('makes the client’s _meta traceparent the parent of the call span, with a nested span per stage', () => {
    const calls = inTrace(CLIENT_TRACE).filter((s) => s.name === 'tools/call rec__add');
    expect(calls).toHaveLength(1);
    const call = calls[0] as OtlpSpan;
    expect(hex(call.parentSpanId)).toBe(CLIENT_SPAN);
    let at = call;
    for (const stage of ['audit-outcome', 'token-scope', 'validate', 'authorize', 'rate-limit', 'approve', 'audit-intent', 'broker', 'sanitize', 'execute']) {
      const next = child(at, `stage ${stage}`);
      expect(next, `stage ${stage} under ${at.name}`).toBeDefined();
      at = next as OtlpSpan;
    }
  });

  it('passes the execute span on to an MCP upstream in _meta.traceparent', () => {
    const call = inTrace(CLIENT_TRACE).find((s) => s.name === 'tools/call rec__add') as OtlpSpan;
    const executes = inTrace(CLIENT_TRACE).filter((s) => s.name === 'stage execute');
    const recorded = existsSync(record)
      ? readFileSync(record, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { meta: { traceparent?: string } | null })
      : [];
    // add (client trace), add (a new trace), the refused add never arrived, echo (header trace).
    expect(recorded).toHaveLength(3);
    expect(recorded[1]?.meta?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(recorded[1]?.meta?.traceparent).not.toContain(CLIENT_TRACE);
    expect(recorded[2]?.meta?.traceparent).toMatch(new RegExp(`^00-${HEADER_TRACE}-`));
    const first = recorded[0]?.meta?.traceparent as string;
    expect(first).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
    const execute = executes.find((s) => hex(s.spanId) === first.slice(36, 52));
    expect(execute, 'the execute span named in the upstream traceparent').toBeDefined();
    expect(spans.some((s) => hex(s.spanId) === hex(execute?.parentSpanId) && s.name === 'stage sanitize')).toBe(true);
    expect(hex(call.traceId)).toBe(CLIENT_TRACE);
  });

  it('gives the HTTP request its own span under execute, and sends that span as the traceparent header', () => {
    const call = inTrace(CLIENT_TRACE).find((s) => s.name === 'tools/call invoices__list_invoices') as OtlpSpan;
    expect(call).toBeDefined();
    const http = inTrace(CLIENT_TRACE).find((s) => s.name === 'HTTP GET') as OtlpSpan;
    expect(http).toBeDefined();
    const parent = spans.find((s) => hex(s.spanId) === hex(http.parentSpanId));
    expect(parent?.name).toBe('stage execute');
    const sent = api.requests.filter((r) => r.url.startsWith('/v1/invoices')).map((r) => r.headers.traceparent);
    expect(sent).toEqual([`00-${CLIENT_TRACE}-${hex(http.spanId)}-01`]);
  });

  it('honours a traceparent sent as an HTTP header', () => {
    const call = inTrace(HEADER_TRACE).find((s) => s.name === 'tools/call rec__echo');
    expect(call).toBeDefined();
    expect(hex(call?.parentSpanId)).toBe(CLIENT_SPAN);
  });

  it('exports no argument value, user name or token', () => {
    const all = otlp.bodies.join('\n');
    expect(all).toContain('gatehouse-e2e');
    expect(all).not.toContain(ARG_CANARY);
    expect(all).not.toContain('alice');
    expect(all).not.toContain(token.split('.')[2] as string);
  });
});
