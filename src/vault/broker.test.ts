import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/index.js';
import { secrets, silentLogger } from '../log/index.js';
import { sanitizer } from '../sanitize/index.js';
import type { CallContext } from '../pipeline/index.js';
import { SqliteStorage, type LeaseRecord } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';
import { Broker, type CredentialIssuer, type Lease, type LeaseRequest, type MintPlan } from './broker.js';
import { VaultError } from './errors.js';

/** An issuer that records what it was asked to do; its "credential" is a password string. */
class FakeIssuer implements CredentialIssuer<{ password: string }> {
  readonly defaultTtlMs = 60_000;
  renewMarginMs = 10_000;
  minted: string[] = [];
  revoked: string[] = [];
  cleaned: string[] = [];
  failMint = false;
  failRevoke = false;
  mintDelayMs = 0;
  leaseKey(request: LeaseRequest): string {
    return request.actor.sub;
  }
  resourceName(request: LeaseRequest, leaseId: string): string {
    return `res_${request.actor.sub}_${leaseId.slice(0, 4)}`;
  }
  async mint(_request: LeaseRequest, plan: MintPlan): Promise<{ password: string }> {
    if (this.mintDelayMs) await new Promise((r) => setTimeout(r, this.mintDelayMs));
    if (this.failMint) throw new Error('database down');
    this.minted.push(plan.resource);
    return { password: `pw-${plan.leaseId}` };
  }
  async revoke(lease: Lease<{ password: string }>): Promise<void> {
    if (this.failRevoke) throw new Error('database down');
    this.revoked.push(lease.resource);
  }
  async cleanup(record: LeaseRecord): Promise<void> {
    this.cleaned.push(record.resource);
  }
  secretsOf(credential: { password: string }): string[] {
    return [credential.password];
  }
}

let storage: SqliteStorage;
let audit: AuditLog;
let issuer: FakeIssuer;
let now: number;

async function broker(options: { instanceId?: string } = {}): Promise<Broker> {
  const b = new Broker({ store: storage.leases, audit, log: silentLogger(), now: () => now, ...options });
  b.register('db', issuer);
  return b;
}

async function kinds(): Promise<string[]> {
  await audit.flush();
  return (await storage.audit.query({ limit: 1000 })).map((r) => r.kind);
}

const alice: LeaseRequest = { actor: { sub: 'alice', groups: ['g'] }, connector: 'db', purpose: 'db__query' };

beforeEach(async () => {
  storage = SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-broker-')));
  audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
    checkpointEvery: 1000,
    checkpointIntervalMs: 300_000,
  });
  issuer = new FakeIssuer();
  now = Date.now();
});

afterEach(async () => {
  await audit.close();
  await storage.close();
});

describe('Broker', () => {
  it('records the lease durably before minting, reuses it while warm, renews it near expiry', async () => {
    const b = await broker();
    const lease = await b.credentialFor<{ password: string }>(alice);
    expect(lease).toMatchObject({ actor: { sub: 'alice' }, connector: 'db', purpose: 'db__query', expiresAt: now + 60_000, revoked: false });
    expect(await storage.leases.get(lease.id)).toMatchObject({
      state: 'active',
      resource: lease.resource,
      actor: 'alice',
      purpose: 'db__query',
      ownerPid: process.pid,
    });
    expect(secrets.scrubKnown(`x ${lease.credential.password}`)).toBe('x [REDACTED]');
    expect((await b.credentialFor(alice)).id).toBe(lease.id);
    now += 50_001; // less than renewMarginMs left
    const renewed = await b.credentialFor(alice);
    expect(renewed.id).not.toBe(lease.id);
    expect(issuer.minted).toHaveLength(2);
    expect(await kinds()).toEqual(['lease.issue', 'lease.issue']);
    await b.close();
  });

  it('mints once for concurrent requests', async () => {
    issuer.mintDelayMs = 20;
    const b = await broker();
    const leases = await Promise.all([b.credentialFor(alice), b.credentialFor(alice), b.credentialFor(alice)]);
    expect(new Set(leases.map((l) => l.id)).size).toBe(1);
    expect(issuer.minted).toHaveLength(1);
    await b.close();
  });

  it('revokes at expiry, forgets the password, and records it with actor and purpose', async () => {
    const b = await broker();
    issuer.renewMarginMs = 0;
    const lease = await b.credentialFor<{ password: string }>({ ...alice, ttlMs: 30 });
    await new Promise((r) => setTimeout(r, 80));
    expect(issuer.revoked).toEqual([lease.resource]);
    expect(lease.revoked).toBe(true);
    expect(secrets.scrubKnown(lease.credential.password)).toBe(lease.credential.password);
    const record = (await storage.audit.query({ kinds: ['lease.revoke'], limit: 1 }))[0];
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({
      actor: { sub: 'alice' },
      purpose: 'db__query',
      reason: 'expired',
      lease: { id: lease.id, resource: lease.resource },
    });
    expect((await storage.leases.get(lease.id))?.state).toBe('revoked');
    await b.close();
  });

  it('revokeActor ends only that user’s leases; revoke is idempotent', async () => {
    const b = await broker();
    const a = await b.credentialFor(alice);
    const bob = await b.credentialFor({ ...alice, actor: { sub: 'bob', groups: [] } });
    // A second revocation while the first is under way waits for it; the issuer is asked once.
    const [first, second] = await Promise.all([b.revokeActor('alice'), b.revoke(a.id, 'again')]);
    expect([first, second]).toEqual([1, true]);
    expect(await b.revoke(a.id, 'later')).toBe(false);
    expect(issuer.revoked).toEqual([a.resource]);
    expect(b.active().map((l) => l.id)).toEqual([bob.id]);
    expect(await b.close()).toBe(1);
    expect(issuer.revoked).toEqual([a.resource, bob.resource]);
  });

  it('a failed mint leaves nothing open and says so without internals', async () => {
    issuer.failMint = true;
    const b = await broker();
    await expect(b.credentialFor(alice)).rejects.toMatchObject({ code: 'broker.mint_failed', message: 'Could not obtain a credential for "db".' });
    // A vault error (its message names the secret and what to run) stays in the operator's log.
    issuer.mint = async () => {
      throw new VaultError('vault.not_found', 'vault secret "pg-admin" does not exist (add it with: gatehouse vault put pg-admin)');
    };
    const error = (await b.credentialFor(alice).catch((e: unknown) => e)) as Error & { code: string };
    expect(error).toMatchObject({ code: 'broker.mint_failed', message: 'Could not obtain a credential for "db".' });
    expect(error.message).not.toContain('pg-admin');
    expect(await storage.leases.open()).toEqual([]);
    expect(issuer.cleaned).toHaveLength(2);
    await b.close();
  });

  it('a failed revocation stays open for the janitor, which retries it', async () => {
    const b = await broker();
    const lease = await b.credentialFor(alice);
    issuer.failRevoke = true;
    expect(await b.revokeActor('alice')).toBe(0);
    expect((await storage.leases.open()).map((r) => r.id)).toEqual([lease.id]);
    expect(await kinds()).toContain('lease.revoke_failed');
    issuer.failRevoke = false;
    expect(await b.janitor()).toEqual({ cleaned: 1, failed: 0, swept: 0 });
    expect(await storage.leases.open()).toEqual([]);
    await b.close();
  });

  it('the janitor leaves a live process’s unexpired leases alone and cleans dead or expired ones', async () => {
    const base = {
      connector: 'db',
      actor: 'x',
      purpose: 'p',
      issuedAt: now,
      state: 'active' as const,
      revokedAt: null,
      revokeReason: null,
      ownerInstance: 'other-run',
    };
    // pid 1 is alive (init) and not us: another gateway sharing the data dir.
    await storage.leases.insert({ ...base, id: 'live', resource: 'r_live', expiresAt: now + 60_000, ownerPid: 1 });
    await storage.leases.insert({ ...base, id: 'live-expired', resource: 'r_live_expired', expiresAt: now - 1, ownerPid: 1 });
    await storage.leases.insert({ ...base, id: 'dead', resource: 'r_dead', expiresAt: now + 60_000, ownerPid: 2 ** 22 + 7 });
    await storage.leases.insert({ ...base, id: 'orphan', connector: 'gone', resource: 'r_orphan', expiresAt: now + 60_000, ownerPid: 2 ** 22 + 7 });
    const b = await broker();
    expect(await b.janitor()).toEqual({ cleaned: 2, failed: 1, swept: 0 });
    expect(issuer.cleaned.sort()).toEqual(['r_dead', 'r_live_expired']);
    expect((await storage.leases.open()).map((r) => r.id).sort()).toEqual(['live', 'orphan']);
    await b.close();
  });

  it('with nodes on other hosts (cluster), another node’s lease is cleaned only once expired, whatever its pid looks like here', async () => {
    const base = {
      connector: 'db',
      actor: 'x',
      purpose: 'p',
      issuedAt: now,
      state: 'active' as const,
      revokedAt: null,
      revokeReason: null,
      ownerInstance: 'other-node',
    };
    // A pid that does not exist here: on one host a dead process, on another host meaningless.
    await storage.leases.insert({ ...base, id: 'live-elsewhere', resource: 'r_live', expiresAt: now + 60_000, ownerPid: 2 ** 22 + 7 });
    await storage.leases.insert({ ...base, id: 'expired', resource: 'r_expired', expiresAt: now - 1, ownerPid: 2 ** 22 + 7 });
    await storage.leases.insert({ ...base, id: 'expired-live-pid', resource: 'r_expired_pid', expiresAt: now - 1, ownerPid: 1 });
    const b = new Broker({ store: storage.leases, audit, log: silentLogger(), now: () => now, leaseOwners: 'cluster' });
    b.register('db', issuer);
    expect(await b.janitor()).toEqual({ cleaned: 2, failed: 0, swept: 0 });
    expect(issuer.cleaned.sort()).toEqual(['r_expired', 'r_expired_pid']);
    expect((await storage.leases.open()).map((r) => r.id)).toEqual(['live-elsewhere']);
    expect((await storage.leases.get('expired'))?.revokeReason).toBe('janitor: expired, left behind by another node or run');
    // Once it has expired, it goes too.
    now += 60_001;
    expect(await b.janitor()).toEqual({ cleaned: 1, failed: 0, swept: 0 });
    expect(await storage.leases.open()).toEqual([]);
    await b.close();
  });

  it('runs no janitor pass while another holder has the cluster lock, and nothing is cleaned by it', async () => {
    await storage.leases.insert({
      ...{ id: 'expired', connector: 'db', actor: 'x', purpose: 'p', resource: 'r_expired', issuedAt: now, expiresAt: now - 1 },
      ...{ state: 'active' as const, revokedAt: null, revokeReason: null, ownerPid: 2 ** 22 + 7, ownerInstance: 'other-node' },
    });
    const asked: string[] = [];
    const held = new Broker({
      ...{ store: storage.leases, audit, log: silentLogger(), now: () => now, leaseOwners: 'cluster' as const },
      exclusive: async (name) => {
        asked.push(name);
        return undefined;
      },
    });
    held.register('db', issuer);
    expect(await held.janitor()).toEqual({ cleaned: 0, failed: 0, swept: 0 });
    expect(asked).toEqual(['lease-janitor']);
    expect(issuer.cleaned).toEqual([]);
    expect((await storage.leases.open()).map((r) => r.id)).toEqual(['expired']);
    await held.close();
  });

  it('refuses TTLs above 60 minutes and gives no credential to a call the stage did not attach', async () => {
    const b = await broker();
    await expect(b.credentialFor({ ...alice, ttlMs: 60 * 60_000 + 1 })).rejects.toMatchObject({ code: 'broker.ttl_invalid' });
    await expect(b.credentialFor({ ...alice, ttlMs: 0 })).rejects.toMatchObject({ code: 'broker.ttl_invalid' });
    const ctx = { requestId: 'r', op: { id: 'db__query' }, notes: {} } as unknown as CallContext;
    await expect(b.leaseFor(ctx)).rejects.toMatchObject({ code: 'broker.no_credential' });
    b.attach(ctx, alice);
    const lease = await b.leaseFor(ctx);
    expect(ctx.notes.lease).toEqual({ id: lease.id, resource: lease.resource, expiresAt: lease.expiresAt, purpose: 'db__query' });
    expect(await kinds()).toEqual(['lease.issue', 'lease.use']);
    await b.close();
    await expect(b.credentialFor(alice)).rejects.toMatchObject({ code: 'broker.closed' });
  });

  it('lease passwords are held credentials: the outbound sanitizer redacts them until the lease is revoked, other text stays', async () => {
    const b = await broker();
    const lease = await b.credentialFor<{ password: string }>(alice);
    const channel = { kind: 'result', method: 'tools/call' } as const;
    const result = {
      content: [{ type: 'text', text: `pw=${lease.credential.password} jwt-like eyJhbGciOiJI.eyJzdWIiOiJ4In0.sig` }],
      structuredContent: { nested: [lease.credential.password] },
    };
    expect(sanitizer.sanitize(result, channel)).toEqual({
      content: [{ type: 'text', text: 'pw=[REDACTED:vault] jwt-like eyJhbGciOiJI.eyJzdWIiOiJ4In0.sig' }],
      structuredContent: { nested: ['[REDACTED:vault]'] },
    });
    const clean = { content: [{ type: 'text', text: 'nothing secret' }] };
    expect(sanitizer.sanitize(clean, channel)).toBe(clean);
    // Values only registered for log scrubbing (any ${VAR} a config interpolates) stay in results.
    secrets.register('/srv/projects/shared');
    const data = { content: [{ type: 'text', text: 'file: /srv/projects/shared/a.txt' }] };
    expect(sanitizer.sanitize(data, channel)).toBe(data);
    await b.revoke(lease.id, 'test');
    const after = { content: [{ type: 'text', text: lease.credential.password }] };
    expect(sanitizer.sanitize(after, channel)).toBe(after);
    await b.close();
  });
});
