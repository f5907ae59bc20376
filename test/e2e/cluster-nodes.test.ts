import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { ECHO_SERVER, NODE } from '../helpers/e2e.js';
import { STARTER_POLICIES } from '../helpers/policy-e2e.js';

const textOf = (result: unknown) => ((result as { content: { text?: string }[] }).content[0]?.text ?? '') as string;
type PendingMeta = { id: string; status: string };
const pendingMeta = (result: unknown): PendingMeta | undefined => (result as { _meta?: Record<string, PendingMeta> })._meta?.['gatehouse/approval'];

/** An SDK client of the stateless revision through nginx: every request may land on another node. */
async function modernClient(cluster: Cluster, token: string): Promise<Client> {
  const client = new Client({ name: 'cluster-e2e', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(cluster.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** One stateless tools/call of `echo`, raw (no client state), through nginx: the next node in the round. */
function rawEcho(cluster: Cluster, token: string, id: number, text: string): Promise<Response> {
  return fetch(cluster.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: 'echo',
        arguments: { text },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
}

/** One HTTP exchange straight to node `index` (not through nginx), with the cluster's public Host. */
function toNode(cluster: Cluster, index: number, method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: string }> {
  const port = (cluster.nodes[index] as { port: number }).port;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method,
        headers: {
          host: new URL(cluster.url).host,
          accept: 'application/json, text/event-stream',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Three real gateway processes on one PostgreSQL database behind Debian's nginx (round robin, no stickiness). */
describe('a three-node cluster behind nginx', () => {
  let cluster: Cluster;
  const clients: Client[] = [];

  beforeAll(async () => {
    cluster = await startCluster(
      inject('postgres'),
      {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        approvals: { approvers: { echo: { users: ['carol'] } }, directory: { carol: ['sre'], alice: ['eng'], erin: ['eng'] }, wait: '20s', ttl: '60s' },
        rateLimits: {
          enabled: true,
          user: { burst: '1000/s' },
          tool: { burst: '1000/s' },
          client: { burst: '1000/s' },
          tools: { echo__add: { burst: '5/m' } },
        },
      },
      { policies: STARTER_POLICIES },
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
  });

  const intents = async (marker: string) =>
    (await cluster.sql<{ seq: number }>(`SELECT seq FROM audit_records WHERE kind = 'call.intent' AND body LIKE $1`, [`%${marker}%`])).length;

  it('spreads one SDK client’s calls over all three nodes; every call is answered and audited in the one chain', async () => {
    const client = await modernClient(cluster, await cluster.token('alice', { groups: ['eng'] }));
    clients.push(client);
    const before = cluster.nginx.upstreams().length;
    const marker = `spread-${Date.now()}`;
    for (let i = 0; i < 30; i++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `${marker}-${i}` } }))).toBe(`${marker}-${i}`);
    const served = cluster.nginx
      .upstreams()
      .slice(before)
      .filter((line) => line.request.startsWith('POST /mcp'))
      .map((line) => cluster.nodeOfUpstream(line.upstream));
    const perNode = [0, 1, 2].map((n) => served.filter((s) => s === n).length);
    expect(served.every((s) => s !== undefined)).toBe(true);
    for (const count of perNode) expect(count).toBeGreaterThan(0);
    expect(await intents(marker)).toBe(30);
    const verify = await cluster.cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('a 2025-era SDK session continues on every node without re-initialising; DELETE on one node ends it on all', async () => {
    const token = await cluster.token('alice', { groups: ['eng'] });
    const transport = new LegacyTransport(new URL(cluster.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    const client = new LegacyClient({ name: 'cluster-2025', version: '1' }, { capabilities: { roots: { listChanged: true } } });
    const before = cluster.nginx.upstreams().length;
    await client.connect(transport);
    const sid = transport.sessionId as string;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(['2025-11-25', '2025-06-18', '2025-03-26']).toContain(transport.protocolVersion);
    const marker = `legacy-${Date.now()}`;
    for (let i = 0; i < 30; i++) {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `${marker}-${i}` } }))).toBe(`${marker}-${i}`);
      expect(transport.sessionId).toBe(sid);
    }
    const posts = cluster.nginx
      .upstreams()
      .slice(before)
      .filter((line) => line.request.startsWith('POST /mcp'));
    const served = posts.map((line) => cluster.nodeOfUpstream(line.upstream));
    for (const node of [0, 1, 2]) expect(served.filter((s) => s === node).length, `node ${node}`).toBeGreaterThan(0);
    // Every exchange of the session was answered by whichever node got it: no 404, no new initialize.
    expect(posts.every((line) => line.status === '200' || line.status === '202')).toBe(true);
    expect(await intents(marker)).toBe(30);
    const starts = await cluster.sql(`SELECT 1 FROM audit_records WHERE kind = 'session.start' AND body LIKE $1`, [`%${sid}%`]);
    expect(starts).toHaveLength(1);

    // Another user's token with this session id: the same answer as an unknown session, on every node.
    const bob = await cluster.token('bob', { groups: ['eng'] });
    const probe = (index: number, bearer: string, text: string) =>
      toNode(
        cluster,
        index,
        'POST',
        { authorization: `Bearer ${bearer}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text } } },
      );
    for (const node of [0, 1, 2]) {
      const foreign = await probe(node, bob, `${marker}-bob`);
      expect(foreign.status).toBe(404);
      expect(JSON.parse(foreign.body)).toMatchObject({ error: { code: -32001, message: 'Session not found', data: { code: 'mcp.session_not_found' } } });
    }
    expect(await intents(`${marker}-bob`)).toBe(0);

    // DELETE straight to node 2; then every node refuses the session, the SDK client included.
    const ended = await toNode(cluster, 1, 'DELETE', { authorization: `Bearer ${token}`, 'mcp-session-id': sid });
    expect(ended.status).toBe(200);
    for (const node of [0, 1, 2]) {
      const replay = await probe(node, token, `${marker}-after-${node}`);
      expect(replay.status, `node ${node}`).toBe(404);
      expect(JSON.parse(replay.body)).toMatchObject({ error: { data: { code: 'mcp.session_not_found' } } });
    }
    await expect(client.callTool({ name: 'echo', arguments: { text: `${marker}-sdk-after` } })).rejects.toThrow(/404|Session not found/);
    expect(await intents(`${marker}-after`)).toBe(0);
    expect(await intents(`${marker}-sdk-after`)).toBe(0);
    const row = await cluster.sql<{ terminated_at: number | null }>('SELECT terminated_at FROM mcp_sessions WHERE id = $1', [sid]);
    expect(row[0]?.terminated_at).not.toBeNull();
    await client.close().catch(() => undefined);
  });

  it('an input_required retry that lands on another node is told to send the request again; re-sent, it completes there', async () => {
    const token = await cluster.token('alice', { groups: ['eng'] });
    const FORM = { elicitation: { form: {} } };
    let id = 500;
    const ask = (index: number, extra: Record<string, unknown> = {}) =>
      toNode(
        cluster,
        index,
        'POST',
        { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'ask_user' },
        {
          jsonrpc: '2.0',
          id: id++,
          method: 'tools/call',
          params: {
            name: 'ask_user',
            arguments: { question: 'Which node?' },
            ...extra,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': FORM,
            },
          },
        },
      ).then((r) => ({
        status: r.status,
        message: JSON.parse(r.body.startsWith('{') ? r.body : (r.body.split('data: ').at(-1) ?? '{}')) as Record<string, any>,
      }));
    const firstLeg = async (index: number) => {
      const first = await ask(index);
      expect(first.status, JSON.stringify(first.message)).toBe(200);
      expect(first.message.result?.resultType).toBe('input_required');
      const key = Object.keys(first.message.result.inputRequests as object)[0] as string;
      return { key, state: first.message.result.requestState as string };
    };
    const answer = (key: string) => ({ [key]: { action: 'accept', content: { answer: 'any' } } });
    const onZero = await firstLeg(0);
    // The retry lands on node 1, where nothing waits for it.
    const elsewhere = await ask(1, { requestState: onZero.state, inputResponses: answer(onZero.key) });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.message.error).toMatchObject({ code: -32602, data: { code: 'mcp.request_state_invalid', reason: 'issued_elsewhere' } });
    expect(elsewhere.message.error.message).toMatch(/another Gatehouse node.*send the request again without requestState/);
    // On record (written in the background, like every refusal record).
    await expect
      .poll(async () => (await cluster.sql(`SELECT 1 FROM audit_records WHERE body LIKE '%issued_elsewhere%'`)).length, { timeout: 5000 })
      .toBeGreaterThan(0);
    // Sent again, the call starts over on node 1 and completes there.
    const onOne = await firstLeg(1);
    const done = await ask(1, { requestState: onOne.state, inputResponses: answer(onOne.key) });
    expect(done.status).toBe(200);
    expect(textOf(done.message.result)).toBe('user accept: any');
    // The first call still waits on node 0, and a retry that reaches it there resumes it.
    const back = await ask(0, { requestState: onZero.state, inputResponses: answer(onZero.key) });
    expect(textOf(back.message.result)).toBe('user accept: any');
  });

  it('a user revoked through one writer is refused by every node on its next request', async () => {
    const token = await cluster.token('dave', { groups: ['eng'] });
    const client = await modernClient(cluster, token);
    clients.push(client);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    const revoked = await cluster.cli(['revoke', '--user', 'dave', '--reason', 'left'], { node: 1 });
    expect(revoked.code, revoked.stderr).toBe(0);
    // Three requests in a row land on three different nodes (round robin): none may serve dave.
    for (let i = 0; i < 6; i++) {
      const response = await rawEcho(cluster, token, i, `after-${i}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/invalid_token/);
    }
    expect(await intents('after-')).toBe(0);
  });

  it('a signing key rotated through one writer is used by every node on its next request; tokens of the old key keep working', async () => {
    const before = await cluster.token('frank', { groups: ['eng'] });
    expect((await rawEcho(cluster, before, 1, 'rot-before')).status).toBe(200);
    const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;
    const rotated = await cluster.cli(['keys', 'rotate', '--json'], { node: 0 });
    expect(rotated.code, rotated.stderr).toBe(0);
    const { previous, current } = JSON.parse(rotated.stdout) as { previous: string; current: string };
    expect(previous).toBe(kidOf(before));
    const after = await cluster.token('frank', { groups: ['eng'] });
    expect(kidOf(after)).toBe(current);
    // Six requests in a row visit every node twice: each verifies the new key's tokens and still the old key's.
    const served: number[] = [];
    for (let i = 0; i < 6; i++) {
      for (const [token, label] of [
        [after, 'new'],
        [before, 'old'],
      ] as const) {
        const response = await rawEcho(cluster, token, 10 + i, `rot-${label}-${i}`);
        expect(response.status, `${label} key, request ${i}`).toBe(200);
        expect(await response.text()).toContain(`rot-${label}-${i}`);
      }
    }
    const lines = cluster.nginx.upstreams().filter((line) => line.request.startsWith('POST /mcp'));
    for (const line of lines.slice(-12)) served.push(cluster.nodeOfUpstream(line.upstream) ?? -1);
    expect(new Set(served)).toEqual(new Set([0, 1, 2]));
    expect(await intents('rot-new-')).toBe(6);
  });

  it('a policy change in the shared policy folder is enforced by every node', async () => {
    const folder = path.join(path.dirname(cluster.nodes[0]!.configPath), 'policies');
    expect(existsSync(folder)).toBe(true);
    const token = await cluster.token('gina', { groups: ['eng'] });
    expect((await rawEcho(cluster, token, 1, 'freeze-before')).status).toBe(200);
    const frozen = async (id: number) => {
      const response = await rawEcho(cluster, token, id, `freeze-${id}`);
      const body = await response.text();
      return body.includes('echo_frozen') || body.includes('The echo server is frozen');
    };
    const file = path.join(folder, '90-freeze.cedar');
    writeFileSync(
      file,
      '@id("echo-freeze")\n@reason("echo_frozen")\n@message("The echo server is frozen.")\nforbid (principal == User::"gina", action == Action::"call", resource in Server::"echo");\n',
    );
    try {
      // Each node reloads its policies when the folder changes (debounced); give the watchers a moment.
      const deadline = Date.now() + 10_000;
      let id = 100;
      while (!(await frozen(id++))) {
        if (Date.now() > deadline) throw new Error('no node enforced the new policy within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = cluster.nginx.upstreams().length;
      // Six requests in a row visit every node twice: each refuses.
      for (let i = 0; i < 6; i++) expect(await frozen(200 + i), `request ${i}`).toBe(true);
      const nodes = cluster.nginx
        .upstreams()
        .slice(before)
        .filter((line) => line.request.startsWith('POST /mcp'))
        .map((line) => cluster.nodeOfUpstream(line.upstream));
      expect(new Set(nodes)).toEqual(new Set([0, 1, 2]));
      expect(await intents('freeze-2')).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
    // Removing the policy lifts it everywhere again (so the other tests see the starter policies).
    const deadline = Date.now() + 10_000;
    let id = 300;
    for (let allowed = 0; allowed < 3; ) {
      if (Date.now() > deadline) throw new Error('the freeze was not lifted within 10 s');
      allowed = (await frozen(id++)) ? 0 : allowed + 1;
      if (allowed === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('a user disabled through one writer is refused by every node on its next request', async () => {
    const added = await cluster.cli(['users', 'add', 'erin', '--group', 'eng', '--password-stdin'], { input: 'correct horse battery staple 1\n' });
    expect(added.code, added.stderr).toBe(0);
    const client = await modernClient(cluster, await cluster.token('erin', { groups: ['eng'] }));
    clients.push(client);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'erin-before' } }))).toBe('erin-before');
    expect((await cluster.cli(['users', 'disable', 'erin'], { node: 2 })).code).toBe(0);
    for (let i = 0; i < 6; i++) {
      const error = await client.callTool({ name: 'echo', arguments: { text: `erin-after-${i}` } }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/401|Unauthorized|invalid_token/i);
    }
    expect(await intents('erin-after-')).toBe(0);
  });

  it('rate limits hold across nodes: 5 calls a minute in total, wherever they land', async () => {
    const client = await modernClient(cluster, await cluster.token('frank', { groups: ['eng'] }));
    clients.push(client);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      outcomes.push(
        await client.callTool({ name: 'add', arguments: { a: i, b: 1 } }).then(
          (r) => (r.isError ? `tool-error:${textOf(r)}` : 'ok'),
          (e: unknown) => ((e as Error).message.includes('Rate limit exceeded') ? 'limited' : `error:${(e as Error).message}`),
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'limited', 'limited', 'limited']);
  });

  it('a call waiting for approval on one node is released by a decision recorded by another process', async () => {
    const client = await modernClient(cluster, await cluster.token('alice', { groups: ['eng'] }));
    clients.push(client);
    const args = { name: 'delete_everything', arguments: { table: `cluster-${Date.now()}` } };
    const call = client.callTool(args);
    const pending = await (async () => {
      for (let i = 0; i < 200; i++) {
        const rows = await cluster.sql<{ id: string }>(`SELECT id FROM approvals WHERE status = 'pending' AND requester = 'alice' AND target = $1`, [
          'echo__delete_everything',
        ]);
        if (rows[0]) return rows[0].id;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no pending approval row');
    })();
    const approved = await cluster.cli(['approvals', 'approve', pending, '--as', 'carol'], { node: 2 });
    expect(approved.code, approved.stderr).toBe(0);
    const result = await call;
    expect(pendingMeta(result)).toBeUndefined();
    expect(textOf(result)).toBe('deleted (not really)');
    const used = await cluster.sql(`SELECT 1 FROM audit_records WHERE kind = 'approval.used' AND body LIKE $1`, [`%${pending}%`]);
    expect(used).toHaveLength(1);
  });
});
