import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness, PUBLIC_URL } from '../../test/helpers/gateway-harness.js';
import { validateConfig } from '../config/index.js';
import { assembleGateway } from '../gateway.js';
import { silentLogger } from '../log/index.js';
import { SqliteStorage } from '../storage/index.js';

const CAPABILITIES = { elicitation: { form: {} }, roots: { listChanged: true } };
const CLIENT_INFO = { name: 'agent-x', version: '4.5.6' };

/** Two gateways on one data dir: two nodes sharing a store, each with its own sessions in memory. */
async function twoNodes(limits: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-shared-sessions-'));
  const connectors = [new FakeConnector('echo', [{ name: 'say' }]), new FakeConnector('echo', [{ name: 'say' }])];
  const node = async (connector: FakeConnector, owner: boolean) => {
    const config = validateConfig(
      {
        servers: { echo: { command: 'unused' } },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['echo'] } }],
        limits: { maxSessionsPerUser: 4, ...limits },
        publicUrl: PUBLIC_URL,
        dataDir: dir,
      },
      'test',
      dir,
      { env: {} },
    );
    const assembly = await assembleGateway(config, { log: silentLogger(), storage: SqliteStorage.open(dir), connectors: new Map([['echo', connector]]) });
    return new Harness(assembly, owner ? dir : undefined);
  };
  const a = await node(connectors[0] as FakeConnector, false);
  const b = await node(connectors[1] as FakeConnector, true);
  return { a, b, echoA: connectors[0] as FakeConnector, echoB: connectors[1] as FakeConnector, dir };
}

async function open(h: Harness, token: string): Promise<string> {
  const res = await h.post(token, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: CAPABILITIES, clientInfo: CLIENT_INFO },
  });
  expect(res.status).toBe(200);
  await res.text();
  const sid = res.headers.get('mcp-session-id') as string;
  expect((await h.post(token, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid })).status).toBe(202);
  return sid;
}

const call = (h: Harness, token: string, sid: string, text: string) => h.rpc(token, sid, 'tools/call', { name: 'say', arguments: { text } });

describe('session-era MCP sessions shared through the store', () => {
  let a: Harness;
  let b: Harness;
  let echoA: FakeConnector;
  let echoB: FakeConnector;
  let alice: string;

  beforeEach(async () => {
    ({ a, b, echoA, echoB } = await twoNodes());
    alice = await a.token('alice', { clientId: 'client-a' });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('a session opened on one node is served by another without a new initialize, as negotiated there', async () => {
    const sid = await open(a, alice);
    expect(b.assembly.sessions.size).toBe(0);
    const answered = await call(b, alice, sid, 'on-b');
    expect(answered.status).toBe(200);
    expect(answered.response).toMatchObject({ result: { content: [{ type: 'text', text: 'say:{"text":"on-b"}' }] } });
    expect(echoB.calls.map((c) => c.sub)).toEqual(['alice']);
    // Recreated under the same id, bound to the same user and client, with what the client said at initialize.
    const held = b.assembly.sessions.get(sid);
    expect(held).toMatchObject({ id: sid, sub: 'alice', clientId: 'client-a', protocolVersion: '2025-06-18' });
    expect(held?.server.getClientCapabilities()).toEqual(CAPABILITIES);
    expect(held?.server.getClientVersion()).toEqual(CLIENT_INFO);
    expect(held?.clientName).toBe('agent-x');
    // Back and forth: both nodes keep serving it, one session.start in the shared audit trail.
    for (let i = 0; i < 4; i++) expect((await call(i % 2 ? a : b, alice, sid, `turn-${i}`)).status).toBe(200);
    expect(b.assembly.sessions.size).toBe(1);
    expect((await b.auditKinds()).filter((k) => k === 'session.start')).toHaveLength(1);
    // A token refreshed for the same user and client continues it too.
    const refreshed = await b.token('alice', { clientId: 'client-a' });
    expect((await call(b, refreshed, sid, 'refreshed')).status).toBe(200);
  });

  it('the log level asked for on one node applies on the others, also after it changes there', async () => {
    const sid = await open(a, alice);
    expect((await a.rpc(alice, sid, 'logging/setLevel', { level: 'error' })).response).toMatchObject({ result: {} });
    expect((await call(b, alice, sid, 'on-b')).status).toBe(200);
    expect(b.assembly.sessions.get(sid)?.logLevel).toBe('error');
    expect((await b.rpc(alice, sid, 'logging/setLevel', { level: 'debug' })).response).toMatchObject({ result: {} });
    expect((await a.assembly.storage.mcpSessions.live(sid, Date.now()))?.logLevel).toBe('debug');
    await a.assembly.sessions.closeAll();
    expect((await call(a, alice, sid, 'back-on-a')).status).toBe(200);
    expect(a.assembly.sessions.get(sid)?.logLevel).toBe('debug');
  });

  it('another user’s token gets exactly the answer for an unknown session, and nothing is built or called', async () => {
    const sid = await open(a, alice);
    const bob = await b.token('bob', { clientId: 'client-a' });
    const foreign = await call(b, bob, sid, 'stolen');
    const forged = await call(b, bob, 'A'.repeat(43), 'forged');
    expect(foreign.status).toBe(404);
    expect(foreign.response).toEqual({ ...forged.response, id: foreign.response.id });
    expect(foreign.response).toMatchObject({ error: { code: -32001, message: 'Session not found', data: { code: 'mcp.session_not_found' } } });
    // Also on the node that holds it.
    expect((await call(a, bob, sid, 'stolen-a')).status).toBe(404);
    expect(b.assembly.sessions.size).toBe(0);
    expect(echoA.calls).toHaveLength(0);
    expect(echoB.calls).toHaveLength(0);
    // Bob's attempts did not end alice's session.
    expect((await call(b, alice, sid, 'still-mine')).status).toBe(200);
  });

  it('the same user through another client gets 404: a session is bound to its client too', async () => {
    const sid = await open(a, alice);
    const otherClient = await b.token('alice', { clientId: 'client-b' });
    const noClient = await b.token('alice');
    for (const token of [otherClient, noClient]) {
      const res = await call(b, token, sid, 'other-client');
      expect(res.status).toBe(404);
      expect(res.response).toMatchObject({ error: { data: { code: 'mcp.session_not_found' } } });
    }
    expect(b.assembly.sessions.size).toBe(0);
    expect(echoB.calls).toHaveLength(0);
  });

  it('DELETE on one node ends the session everywhere: replays on either node get 404, the other node’s copy closes', async () => {
    const sid = await open(a, alice);
    expect((await call(b, alice, sid, 'before')).status).toBe(200);
    const deleted = await b.request('DELETE', { authorization: `Bearer ${alice}`, 'mcp-session-id': sid });
    expect(deleted.status).toBe(200);
    expect(b.assembly.sessions.get(sid)).toBeUndefined();
    for (const node of [a, b, a]) {
      const replay = await call(node, alice, sid, 'after');
      expect(replay.status).toBe(404);
      expect(replay.response).toMatchObject({ error: { data: { code: 'mcp.session_not_found' } } });
    }
    expect(a.assembly.sessions.get(sid)).toBeUndefined();
    expect(echoA.calls).toHaveLength(0);
    // A GET stream and a DELETE with the ended id are refused the same way.
    expect((await a.request('GET', { authorization: `Bearer ${alice}`, 'mcp-session-id': sid, accept: 'text/event-stream' })).status).toBe(404);
    expect((await a.request('DELETE', { authorization: `Bearer ${alice}`, 'mcp-session-id': sid })).status).toBe(404);
  });

  it('a GET stream open on one node ends within a check of the session being ended on another', async () => {
    const sid = await open(a, alice);
    const stream = await a.request('GET', { authorization: `Bearer ${alice}`, 'mcp-session-id': sid, accept: 'text/event-stream' });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await a.assembly.sessions.runChecks();
    expect(a.assembly.sessions.get(sid)).toBeDefined();
    expect((await b.request('DELETE', { authorization: `Bearer ${alice}`, 'mcp-session-id': sid })).status).toBe(200);
    // No request reaches node a; its periodic check closes the local copy and the stream.
    await a.assembly.sessions.runChecks();
    expect(a.assembly.sessions.get(sid)).toBeUndefined();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });

  it('another user cannot end a session with DELETE', async () => {
    const sid = await open(a, alice);
    const bob = await b.token('bob', { clientId: 'client-a' });
    expect((await b.request('DELETE', { authorization: `Bearer ${bob}`, 'mcp-session-id': sid })).status).toBe(404);
    expect((await a.request('DELETE', { authorization: `Bearer ${bob}`, 'mcp-session-id': sid })).status).toBe(404);
    expect((await call(b, alice, sid, 'survived')).status).toBe(200);
  });

  it('an expired session is refused on every node, including the one that holds it', async () => {
    const sid = await open(a, alice);
    expect((await call(a, alice, sid, 'fresh')).status).toBe(200);
    (a.assembly.storage as SqliteStorage).sql.statement('UPDATE mcp_sessions SET expires_at = ? WHERE id = ?').run(Date.now() - 1, sid);
    for (const node of [b, a]) expect((await call(node, alice, sid, 'late')).status).toBe(404);
    expect(a.assembly.sessions.get(sid)).toBeUndefined();
    expect(b.assembly.sessions.size).toBe(0);
    expect(echoA.calls).toHaveLength(1);
  });

  it('a revoked session stays ended for any new token of the same user and client, on any node', async () => {
    const sid = await open(a, alice);
    await a.assembly.revocations.add({ kind: 'session', value: sid, revokedAt: Date.now(), expiresAt: Date.now() + 60_000, revokedBy: 'test', reason: null });
    const fresh = await b.token('alice', { clientId: 'client-a' });
    expect((await call(b, fresh, sid, 'after-revoke')).status).toBe(404);
    expect((await call(a, fresh, sid, 'after-revoke')).status).toBe(404);
    expect(echoB.calls).toHaveLength(0);
  });

  it('a session revoked while no node holds it also revokes the token and grant that opened it', async () => {
    const opener = await a.token('alice', { clientId: 'client-a' });
    const sid = await open(a, opener);
    await a.assembly.sessions.closeAll();
    await b.assembly.revocations.add({ kind: 'session', value: sid, revokedAt: Date.now(), expiresAt: Date.now() + 60_000, revokedBy: 'test', reason: null });
    await new Promise((r) => setImmediate(r));
    await expect.poll(async () => (await b.assembly.storage.revocations.listSince(0, Date.now())).map((e) => e.kind)).toContain('token');
    const res = await a.post(opener, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': sid });
    expect(res.status).toBe(401);
    const fresh = await b.token('alice', { clientId: 'client-a' });
    expect((await call(b, fresh, sid, 'after')).status).toBe(404);
  });

  it('a user revocation ends their stored sessions even where no node holds them; sessions opened later are not touched', async () => {
    const sid = await open(a, alice);
    await a.assembly.sessions.closeAll();
    expect(a.assembly.sessions.size).toBe(0);
    const revokedAt = Date.now();
    await b.assembly.revocations.add({ kind: 'user', value: 'alice', revokedAt, expiresAt: Date.now() + 60_000, revokedBy: 'test', reason: null });
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await a.token('alice', { clientId: 'client-a' });
    expect((await call(a, fresh, sid, 'resurrect')).status).toBe(404);
    const later = await open(b, fresh);
    // A node that applies the same revocation again (a restart) spares the newer session.
    expect(await a.assembly.storage.mcpSessions.terminate({ sub: 'alice' }, revokedAt)).toBe(0);
    expect((await call(a, fresh, later, 'newer')).status).toBe(200);
  });

  it('a forged, truncated or stateless-internal id is an unknown session', async () => {
    await open(a, alice);
    // The stateless revision's internal sessions never go to clients and are not in the store.
    const modern = await a.post(
      alice,
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'm', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    );
    expect(modern.status).toBe(200);
    const internal = [...a.assembly.sessions.values()].find((s) => s.stateless);
    expect(internal).toBeDefined();
    for (const id of [internal?.id as string, 'x', '', ' '.repeat(10), `${'Z'.repeat(43)}'--`]) {
      const res = await call(b, alice, id, 'forged');
      expect([400, 404]).toContain(res.status);
      if (res.status === 404) expect(res.response).toMatchObject({ error: { data: { code: 'mcp.session_not_found' } } });
    }
    expect((await call(b, alice, internal?.id as string, 'internal')).status).toBe(404);
    expect((await call(a, alice, internal?.id as string, 'internal')).status).toBe(404);
    expect(echoA.calls).toHaveLength(0);
    expect(echoB.calls).toHaveLength(0);
  });

  it('concurrent first requests on a node recreate the session once', async () => {
    const sid = await open(a, alice);
    const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => call(b, alice, sid, `c${i}`)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(b.assembly.sessions.size).toBe(1);
  });
});

describe('the per-user cap with shared sessions', () => {
  let dir: string;
  let a: Harness;
  let b: Harness;
  afterEach(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session evicted for room on one node is ended everywhere (404, as on one node)', async () => {
    ({ a, b, dir } = await twoNodes({ maxSessionsPerUser: 1 }));
    const alice = await a.token('alice', { clientId: 'client-a' });
    const first = await open(a, alice);
    expect((await call(b, alice, first, 'on-b')).status).toBe(200);
    // Opening a second session on b makes room by evicting the first there: it ends for good.
    const second = await open(b, alice);
    expect((await call(a, alice, first, 'evicted')).status).toBe(404);
    expect(a.assembly.sessions.get(first)).toBeUndefined();
    expect((await call(a, alice, second, 'second')).status).toBe(200);
  });
});

describe('the session store unavailable', () => {
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    ({ a, b } = await twoNodes());
  });
  afterEach(async () => {
    await a.close().catch(() => undefined);
    await b.close().catch(() => undefined);
  });

  it('fails closed with 503: no session is served on what memory alone says', async () => {
    const alice = await a.token('alice', { clientId: 'client-a' });
    const sid = await open(a, alice);
    const store = a.assembly.storage.mcpSessions;
    const live = store.live.bind(store);
    store.live = async () => {
      throw new Error('store down');
    };
    try {
      const res = await call(a, alice, sid, 'no-store');
      expect(res.status).toBe(503);
      expect(res.response).toMatchObject({ error: { data: { code: 'store.unavailable' } } });
    } finally {
      store.live = live;
    }
    expect((await call(a, alice, sid, 'store-back')).status).toBe(200);
  });
});
