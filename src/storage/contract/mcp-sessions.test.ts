import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import type { NewMcpSession, Storage } from '../ports/index.js';

const session = (id: string, over: Partial<NewMcpSession> = {}): NewMcpSession => ({
  id,
  sub: 'alice',
  clientId: 'client-a',
  openedJti: `jti-${id}`,
  openedGrantId: `grant-${id}`,
  protocolVersion: '2025-11-25',
  clientCapabilities: { elicitation: { form: {} }, roots: { listChanged: true } },
  clientInfo: { name: 'agent', version: '1.2.3' },
  createdAt: 1000,
  lastUsedAt: 1000,
  expiresAt: 5000,
  ...over,
});

describe.each(BACKENDS)('McpSessionStore ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;

  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

  it('keeps what was negotiated and who the session is bound to, exactly', async () => {
    await storage.mcpSessions.create(session('s1'));
    await storage.mcpSessions.create(session('s2', { clientId: undefined, openedGrantId: undefined, clientInfo: { name: 'nul\u0000 and ünïcode' } }));
    expect(await storage.mcpSessions.live('s1', 1500)).toEqual({ ...session('s1'), terminatedAt: undefined, logLevel: undefined });
    expect(await storage.mcpSessions.live('s2', 1500)).toEqual({
      ...session('s2', { clientId: undefined, openedGrantId: undefined, clientInfo: { name: 'nul\u0000 and ünïcode' } }),
      terminatedAt: undefined,
      logLevel: undefined,
    });
    expect(await storage.mcpSessions.live('nope', 1500)).toBeUndefined();
  });

  it('keeps the log level the client asked for, only on a live session', async () => {
    await storage.mcpSessions.create(session('s1'));
    expect(await storage.mcpSessions.setLogLevel('s1', 'warning', 1500)).toBe(true);
    expect((await storage.mcpSessions.live('s1', 1500))?.logLevel).toBe('warning');
    expect(await storage.mcpSessions.setLogLevel('s1', 'debug', 6000)).toBe(false);
    await storage.mcpSessions.terminate({ id: 's1' }, 1600);
    expect(await storage.mcpSessions.setLogLevel('s1', 'debug', 1700)).toBe(false);
    expect(await storage.mcpSessions.setLogLevel('missing', 'debug', 1700)).toBe(false);
  });

  it('an id is recorded once: a second create of the same id fails and changes nothing', async () => {
    await storage.mcpSessions.create(session('s1'));
    await expect(storage.mcpSessions.create(session('s1', { sub: 'mallory', clientId: 'client-m' }))).rejects.toThrow();
    expect((await storage.mcpSessions.live('s1', 1500))?.sub).toBe('alice');
    expect((await storage.mcpSessions.live('s1', 1500))?.clientId).toBe('client-a');
  });

  it('a session is live until its expiry; a use moves the expiry on, never back', async () => {
    await storage.mcpSessions.create(session('s1'));
    expect(await storage.mcpSessions.live('s1', 4999)).toBeDefined();
    expect(await storage.mcpSessions.live('s1', 5000)).toBeUndefined();
    expect(await storage.mcpSessions.touch('s1', 4000, 9000)).toBe(true);
    expect(await storage.mcpSessions.live('s1', 8999)).toMatchObject({ lastUsedAt: 4000, expiresAt: 9000 });
    // A late, slower node recording an older use does not shorten the session.
    expect(await storage.mcpSessions.touch('s1', 4100, 6000)).toBe(true);
    expect((await storage.mcpSessions.live('s1', 8000))?.expiresAt).toBe(9000);
    // An expired session cannot be revived by a use.
    expect(await storage.mcpSessions.touch('s1', 9000, 20_000)).toBe(false);
    expect(await storage.mcpSessions.live('s1', 9000)).toBeUndefined();
    expect(await storage.mcpSessions.touch('missing', 1000, 20_000)).toBe(false);
  });

  it('terminated sessions are never live again, and cannot be touched back to life', async () => {
    await storage.mcpSessions.create(session('s1'));
    await storage.mcpSessions.create(session('s2'));
    expect(await storage.mcpSessions.terminate({ id: 's1' }, 2000)).toBe(1);
    expect(await storage.mcpSessions.terminate({ id: 's1' }, 2500)).toBe(0);
    expect(await storage.mcpSessions.live('s1', 2100)).toBeUndefined();
    expect(await storage.mcpSessions.touch('s1', 2100, 10_000)).toBe(false);
    expect(await storage.mcpSessions.live('s1', 2100)).toBeUndefined();
    expect(await storage.mcpSessions.live('s2', 2100)).toBeDefined();
  });

  it('revocations end every session they cover (user, client, grant, token) and no other', async () => {
    await storage.mcpSessions.create(session('a1'));
    await storage.mcpSessions.create(session('a2', { clientId: 'client-b' }));
    await storage.mcpSessions.create(session('b1', { sub: 'bob', clientId: 'client-b' }));
    await storage.mcpSessions.create(session('b2', { sub: 'bob', clientId: 'client-c', openedGrantId: 'shared-grant' }));
    await storage.mcpSessions.create(session('b3', { sub: 'bob', clientId: 'client-c', openedJti: 'the-jti' }));
    await storage.mcpSessions.create(session('c1', { sub: 'carol', clientId: 'client-c' }));
    const liveIds = async () => [...(await storage.mcpSessions.liveAmong(['a1', 'a2', 'b1', 'b2', 'b3', 'c1', 'zz'], 1500))].sort();
    expect(await liveIds()).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'c1']);
    expect(await storage.mcpSessions.terminate({ sub: 'alice' }, 1200)).toBe(2);
    expect(await liveIds()).toEqual(['b1', 'b2', 'b3', 'c1']);
    expect(await storage.mcpSessions.terminate({ clientId: 'client-b' }, 1200)).toBe(1);
    expect(await liveIds()).toEqual(['b2', 'b3', 'c1']);
    expect(await storage.mcpSessions.terminate({ grantId: 'shared-grant' }, 1200)).toBe(1);
    expect(await storage.mcpSessions.terminate({ jti: 'the-jti' }, 1200)).toBe(1);
    expect(await liveIds()).toEqual(['c1']);
    // Values that look like SQL are values.
    expect(await storage.mcpSessions.terminate({ sub: "x' OR '1'='1" }, 1200)).toBe(0);
    expect(await liveIds()).toEqual(['c1']);
    expect(await storage.mcpSessions.liveAmong([], 1500)).toEqual(new Set());
  });

  it('a revocation ends only the sessions that existed when it was made (applied again later, it spares newer ones)', async () => {
    await storage.mcpSessions.create(session('before', { createdAt: 1000 }));
    await storage.mcpSessions.create(session('after', { createdAt: 1300, expiresAt: 9000 }));
    expect(await storage.mcpSessions.terminate({ sub: 'alice' }, 1200)).toBe(1);
    expect(await storage.mcpSessions.live('before', 1400)).toBeUndefined();
    expect(await storage.mcpSessions.live('after', 1400)).toBeDefined();
    // A node starting later replays the same revocation: the newer session stays.
    expect(await storage.mcpSessions.terminate({ sub: 'alice' }, 1200)).toBe(0);
    expect(await storage.mcpSessions.live('after', 1400)).toBeDefined();
  });

  it('purge forgets expired and terminated sessions only', async () => {
    await storage.mcpSessions.create(session('old', { expiresAt: 2000 }));
    await storage.mcpSessions.create(session('ended', { expiresAt: 50_000 }));
    await storage.mcpSessions.create(session('current', { expiresAt: 50_000 }));
    await storage.mcpSessions.terminate({ id: 'ended' }, 2500);
    expect(await storage.mcpSessions.purge(3000)).toBe(2);
    expect(await storage.mcpSessions.purge(3000)).toBe(0);
    expect(await storage.mcpSessions.live('current', 3000)).toBeDefined();
    // A purged terminated id stays unknown (it is not resurrected by a touch).
    expect(await storage.mcpSessions.touch('ended', 3000, 60_000)).toBe(false);
  });
});
