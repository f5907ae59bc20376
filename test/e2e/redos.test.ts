import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  ECHO_SERVER,
  type GatewayProcess,
  MCP_HEADERS,
  NODE,
  openRawSession,
  rawHttp,
  rpcMessages,
  startGateway,
  waitFor,
} from '../helpers/e2e.js';

/*
 * Text built to make a backtracking regular expression go quadratic, sent to a real gateway
 * through every channel that ends up in a log line or an audit record: tool arguments from a
 * token with no permissions, argument names, an upstream echoing it back, and unauthenticated
 * endpoints (client registration, the token endpoint, a malformed bearer header). Meanwhile
 * another client polls /healthz. With quadratic redaction one such request froze the event
 * loop for seconds (180 KB: 17 s); now the gateway must keep answering, and each request must
 * get the answer it would get with harmless text.
 */

const MB = 1 << 20;
const megabyte = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
/** Generous: a healthy gateway answers /healthz in milliseconds even on a busy machine. */
const HEALTHZ_BOUND_MS = 2500;

const ATTACKS: Record<string, string> = {
  'eyJ repeated': megabyte('eyJ'),
  'JWT pattern attack': `${megabyte('eyJJJJJJ')}eyJ-JJJy.`,
  'URL userinfo attack': megabyte('A+'),
  'a:// repeated': megabyte('a://'),
  'Bearer repeated': megabyte('Bearer '),
  'base64url run': megabyte('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'),
};

/** Polls /healthz until stopped; reports the slowest answer (or a failure). */
function pollHealth(url: string): { stop(): Promise<{ slowestMs: number; polls: number; failures: string[] }> } {
  let running = true;
  let slowestMs = 0;
  let polls = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
        if (res.status !== 200) failures.push(`status ${res.status}`);
        await res.text();
      } catch (error) {
        failures.push((error as Error).message);
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
      polls++;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowestMs, polls, failures };
    },
  };
}

describe('pathological text through every channel leaves the gateway responsive', () => {
  let gw: GatewayProcess;
  let alice: string;
  let mallory: string;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
        // Room for a megabyte argument inside the JSON-RPC envelope.
        limits: { maxRequestBody: '4mb' },
        rateLimits: { enabled: false },
      },
    });
    alice = await gw.token('alice');
    mallory = await gw.token('mallory');
  }, 120_000);
  afterAll(cleanup);

  async function call(token: string, sid: string, name: string, args: Record<string, unknown>, id: number) {
    const response = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
    });
    const messages = rpcMessages(response);
    return messages[messages.length - 1] as { error?: { code: number; data?: { code?: string } }; result?: { content?: { text?: string }[] } };
  }

  it('a token with no permissions sending megabyte arguments is refused as usual, while /healthz keeps answering', async () => {
    const sid = await openRawSession(gw, mallory);
    // The answers the same calls get with harmless text.
    const asValue = await call(mallory, sid, 'echo', { text: 'hello' }, 1);
    const asName = await call(mallory, sid, 'echo', { hello: 'x' }, 2);
    expect(asValue.error?.data?.code).toBe('policy.denied');
    expect(asName.error?.data?.code).toBe('mcp.invalid_arguments');
    const health = pollHealth(gw.url);
    let id = 10;
    const answers = [];
    for (const [name, text] of Object.entries(ATTACKS)) {
      answers.push([name, asValue, await call(mallory, sid, 'echo', { text }, id++)] as const);
      answers.push([`${name} as an argument name`, asName, await call(mallory, sid, 'echo', { [text]: 'x' }, id++)] as const);
    }
    const { slowestMs, polls, failures } = await health.stop();
    for (const [name, usual, answer] of answers) {
      expect(answer.error, name).toMatchObject({ code: usual.error?.code, data: { code: usual.error?.data?.code } });
    }
    expect(failures).toEqual([]);
    // /healthz was polled while the calls ran (the bound below is what shows it never stalled).
    expect(polls).toBeGreaterThan(0);
    expect(slowestMs, `slowest /healthz answer: ${Math.round(slowestMs)} ms`).toBeLessThan(HEALTHZ_BOUND_MS);
    // Each refusal was recorded (refusal records are written after the answer, so wait for the
    // last one), with the argument cut to a bounded record.
    const denied = await waitFor(
      () => {
        const rows = auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.body.actor?.sub === 'mallory');
        return rows.length >= answers.length + 2 && rows;
      },
      `${answers.length + 2} call.denied records`,
    );
    expect(denied.length).toBeGreaterThanOrEqual(answers.length + 2);
    for (const row of denied) expect(row.rawBody.length).toBeLessThan(200_000);
  }, 180_000);

  it('a permitted call whose upstream echoes a megabyte of it back still completes, with /healthz answering', async () => {
    const sid = await openRawSession(gw, alice);
    const health = pollHealth(gw.url);
    const text = ATTACKS['JWT pattern attack'] as string;
    const answer = await call(alice, sid, 'echo', { text }, 50);
    const { slowestMs, failures } = await health.stop();
    expect(answer.error).toBeUndefined();
    expect(answer.result?.content?.[0]?.text).toContain(text.slice(0, 1000));
    expect(failures).toEqual([]);
    expect(slowestMs, `slowest /healthz answer: ${Math.round(slowestMs)} ms`).toBeLessThan(HEALTHZ_BOUND_MS);
    const intent = auditRows(gw.dataDir).find((r) => r.kind === 'call.intent' && r.body.actor?.sub === 'alice');
    expect(intent?.rawBody.length).toBeLessThan(50_000);
  }, 120_000);

  it('unauthenticated clients sending such text to registration, the token endpoint and the bearer header do not stall it', async () => {
    const health = pollHealth(gw.url);
    const name = (ATTACKS['JWT pattern attack'] as string).slice(0, 56 * 1024);
    const registrations = Array.from({ length: 8 }, (_, i) =>
      fetch(`${gw.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: i % 2 === 0 ? name : (ATTACKS['URL userinfo attack'] as string).slice(0, 56 * 1024),
          redirect_uris: ['http://127.0.0.1:5999/cb'],
          token_endpoint_auth_method: 'none',
        }),
      }).then(async (res) => ({ status: res.status, body: await res.text() })),
    );
    const token = fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: name.slice(0, 30_000), client_id: name.slice(0, 20_000), code_verifier: 'x' }),
    }).then((res) => res.status);
    const bearer = rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${name.slice(0, 12_000)}` }, body: '{}' }).then(
      (res) => res.status,
    );
    const results = await Promise.all(registrations);
    const [tokenStatus, bearerStatus] = await Promise.all([token, bearer]);
    const { slowestMs, failures } = await health.stop();
    // Accepted (RFC 7591 §3.2.1) or refused as invalid metadata (§3.2.2), never a server error.
    for (const r of results) expect([201, 400]).toContain(r.status);
    expect(tokenStatus).toBeGreaterThanOrEqual(400);
    expect(tokenStatus).toBeLessThan(500);
    expect(bearerStatus).toBe(401);
    expect(failures).toEqual([]);
    expect(slowestMs, `slowest /healthz answer: ${Math.round(slowestMs)} ms`).toBeLessThan(HEALTHZ_BOUND_MS);
    const registered = auditRows(gw.dataDir).filter((r) => r.kind === 'oauth.client_registered');
    for (const row of registered) expect(row.rawBody.length).toBeLessThan(100_000);
  }, 120_000);
});
