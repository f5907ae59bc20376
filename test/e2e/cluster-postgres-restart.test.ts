import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statelessToolCall } from '../helpers/cluster.js';
import { NODE, ROOT, sleep, tempDir } from '../helpers/e2e.js';
import { type PostgresCluster, startPostgresCluster } from '../helpers/postgres-cluster.js';

const run = promisify(execFile);
const RECORDING_SERVER = path.join(ROOT, 'test/fixtures/recording-server.mjs');

/** A call the gateway refused: what the client saw. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly retryAfter: string | null,
    readonly rpcCode: number | undefined,
    readonly wwwAuthenticate: string | null,
  ) {
    super(`HTTP ${status} ${code ?? 'tool error'}`);
  }
}
async function call(url: string, token: string, text: string): Promise<string> {
  const { status, headers, message } = await statelessToolCall(url, token, 'echo', { text });
  if (status !== 200 || !message.result || message.result.isError)
    throw new Refusal(status, message.error?.data?.code ?? message.code, headers.get('retry-after'), message.error?.code, headers.get('www-authenticate'));
  return message.result.content?.[0]?.text ?? '';
}

/** A token request from a client the server does not know (its lookup needs the store). */
async function tokenRequest(base: string): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'x' }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

/** A browser's authorization request (an HTML page, whatever the outcome). */
async function authorizeRequest(base: string): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const query = new URLSearchParams({
    client_id: 'no-such-client',
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:9/cb',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    scope: 'mcp',
  });
  const response = await fetch(`${base}/oauth/authorize?${query}`, {
    headers: { accept: 'text/html' },
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
}

/**
 * PostgreSQL restarted under load, on a server of its own (the shared test server must not go
 * away under other test files): calls fail closed while it is down — no call runs without its
 * intent record — and the nodes recover by themselves when it is back.
 */
describe('PostgreSQL restart under load', () => {
  let pg: PostgresCluster;
  let cluster: Cluster;
  // What reached the upstream, one JSON line per tools/call.
  const recordDir = tempDir('gh-pgrestart-');
  const recordFile = path.join(recordDir, 'calls.jsonl');
  const upstreamTexts = () =>
    existsSync(recordFile)
      ? readFileSync(recordFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { arguments?: { text?: string } }).arguments?.text)
      : [];
  const pgCtl = (args: string[]) => {
    const bin = path.join(pg.binDir, 'pg_ctl');
    const data = path.join(pg.dir, 'data');
    return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', bin, '-D', data, ...args]) : run(bin, ['-D', data, ...args]);
  };

  beforeAll(async () => {
    pg = await startPostgresCluster({ install: true });
    cluster = await startCluster(
      pg,
      {
        servers: { echo: { command: NODE, args: [RECORDING_SERVER, recordFile], sandbox: { writable: [recordDir] } } },
        access: [{ allow: { users: ['loader'], servers: ['echo'] } }],
        rateLimits: { enabled: false },
      },
      { nodes: 2 },
    );
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    await pg?.stop();
  });

  it('refuses calls while the store is down, runs none without an intent record, and recovers without a restart of the nodes', async () => {
    const token = await cluster.token('loader');
    const run = `pgrestart-${Date.now()}`;
    const acknowledged: string[] = [];
    const refusals: string[] = [];
    const refused: { text: string; refusal: Refusal }[] = [];
    const failures: string[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    const acknowledgedWhileDown: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const text = `${run}-w${w}-${i}`;
        const startedIn = phase;
        try {
          await call(cluster.mcpUrl, token, text);
          acknowledged.push(text);
          if (startedIn === 'down') acknowledgedWhileDown.push(text);
        } catch (error) {
          refusals.push((error as Error).message);
          if (error instanceof Refusal) refused.push({ text, refusal: error });
          else failures.push(`${startedIn}: ${(error as Error).message}`);
          await sleep(50);
        }
      }
    };
    const workers = Promise.all([0, 1, 2].map(worker));
    await sleep(1500);
    await pgCtl(['-m', 'fast', '-w', 'stop']);
    phase = 'down';
    const downStarted = Date.now();
    // The authorization server and its pages answer 503 too while the store is down.
    const tokenWhileDown = await tokenRequest(cluster.url);
    const authorizeWhileDown = await authorizeRequest(cluster.url);
    await sleep(Math.max(0, 2500 - (Date.now() - downStarted)));
    await pgCtl(['-l', pg.logFile, '-w', 'start']);
    phase = 'after';
    // Recovery by itself: calls succeed again within a bounded time, no node restarted.
    const deadline = Date.now() + 30_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      recovered = await call(cluster.mcpUrl, token, `${run}-probe-${Date.now()}`).then(
        () => true,
        () => false,
      );
      if (!recovered) await sleep(200);
    }
    await sleep(1000);
    stop = true;
    await workers;
    process.stderr.write(
      `[cluster pg restart] acknowledged=${acknowledged.length} acknowledged-started-while-down=${acknowledgedWhileDown.length} refused=${refusals.length} ` +
        `refusal kinds=${JSON.stringify([...new Set(refusals)])}\n`,
    );
    for (const node of cluster.nodes) expect(node.process?.child.exitCode, node.process?.stderr.split('\n').slice(-25).join('\n')).toBeNull();
    expect(recovered).toBe(true);
    expect(refusals.length).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(refused.length).toBe(refusals.length);

    // While the store is down a valid token is never answered 401 (a client would throw it
    // away and sign in again): every refusal is a spec-shaped 503 with the one stable code,
    // a JSON-RPC error and Retry-After, and no refused call reached the upstream.
    // The only other refusal allowed: a call in flight when the store went away, which ran
    // (its intent was recorded before) but whose outcome could not be committed. It says so
    // instead of "retry", and there are at most as many as there were calls in flight.
    const unavailable = refused.filter(({ refusal }) => refusal.code === 'store.unavailable');
    const ranUnrecorded = refused.filter(({ refusal }) => refusal.code !== 'store.unavailable');
    for (const { refusal } of unavailable) {
      expect({ status: refusal.status, rpc: refusal.rpcCode, retryAfter: refusal.retryAfter, challenge: refusal.wwwAuthenticate }).toEqual({
        status: 503,
        rpc: -32014,
        retryAfter: '2',
        challenge: null,
      });
    }
    for (const { refusal } of ranUnrecorded) {
      expect({ status: refusal.status, code: refusal.code, rpc: refusal.rpcCode, retryAfter: refusal.retryAfter, challenge: refusal.wwwAuthenticate }).toEqual({
        status: 200,
        code: 'audit.outcome_unrecorded',
        rpc: -32012,
        retryAfter: null,
        challenge: null,
      });
    }
    expect(ranUnrecorded.length).toBeLessThanOrEqual(3);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(tokenWhileDown).toEqual({
      status: 503,
      retryAfter: '2',
      body: { error: 'temporarily_unavailable', error_description: expect.stringMatching(/cannot reach its store/), code: 'store.unavailable' },
    });
    expect(authorizeWhileDown.status).toBe(503);
    expect(authorizeWhileDown.retryAfter).toBe('2');
    expect(authorizeWhileDown.body).toContain('store.unavailable');
    // With the store back, the same requests get their ordinary answers: the 503s were the outage.
    const tokenAfter = await tokenRequest(cluster.url);
    expect(tokenAfter.status).toBe(401);
    expect(tokenAfter.body).toMatchObject({ error: 'invalid_client' });
    expect((await authorizeRequest(cluster.url)).status).toBe(400);
    const reachedUpstream = new Set(upstreamTexts());
    expect(unavailable.filter(({ text }) => reachedUpstream.has(text)).map(({ text }) => text)).toEqual([]);
    // Every acknowledged call did reach it (the record is real, not empty by accident).
    expect(acknowledged.filter((t) => !reachedUpstream.has(t))).toEqual([]);

    // Fail closed: every acknowledged call, including any that started while the store was down
    // and finished after it returned, has its intent and its result in the store.
    const intents = await cluster.sql<{ seq: number; body: string }>(`SELECT seq, body FROM audit_records WHERE kind = 'call.intent' AND body LIKE $1`, [
      `%${run}%`,
    ]);
    const results = await cluster.sql<{ body: string }>(`SELECT body FROM audit_records WHERE kind = 'call.result'`);
    const resultFor = new Set(results.map((r) => Number((JSON.parse(r.body) as { intent?: number }).intent)));
    const audited = new Set(intents.filter((r) => resultFor.has(Number(r.seq))).map((r) => (JSON.parse(r.body) as { args?: { text?: string } }).args?.text));
    expect(acknowledged.filter((t) => !audited.has(t))).toEqual([]);
    const verify = await cluster.cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
