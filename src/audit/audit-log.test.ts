import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, secrets } from '../log/index.js';
import { SqliteStorage, type StoredAuditRecord } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';
import { AuditUnavailableError } from '../errors/index.js';
import { AuditLog } from './audit-log.js';
import { AuditKind } from './events.js';
import { verifyAuditLog } from './verify-log.js';

describe('audit log', () => {
  let dir: string;
  let storage: SqliteStorage;
  let audit: AuditLog;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-audit-'));
    storage = SqliteStorage.open(dir);
    audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 5,
      checkpointIntervalMs: 60_000,
    });
  });
  afterEach(async () => {
    await storage.close();
  });

  async function fill(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await audit.append('call.intent', { actor: { sub: `user${i % 3}` }, target: { tool: `echo__t${i}` }, n: i }, { durable: true });
    await audit.flush();
    await audit.checkpoint();
  }
  const exec = (sql: string) => storage.sql.db.exec(sql);
  const verify = () => verifyAuditLog(storage.audit, storage.signingKeys);

  it('group-commits everything queued in one turn into one batch, chained in order', async () => {
    const pending = Array.from({ length: 20 }, (_, i) => audit.append('call.intent', { n: i }, { durable: true }));
    const records = (await Promise.all(pending)) as StoredAuditRecord[];
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (let i = 1; i < records.length; i++) expect(records[i]?.prevHash).toBe(records[i - 1]?.hash);
    await expect(verify()).resolves.toMatchObject({ ok: true, records: 20 });
  });

  it('verifies an intact log and counts its records', async () => {
    await fill(12);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, records: 12, headSeq: 12 });
    expect(result.ok && result.checkpoints).toBeGreaterThanOrEqual(2);
  });

  it('detects an edited record', async () => {
    await fill(10);
    exec(`UPDATE audit_records SET body = replace(body, 'user1', 'mallory') WHERE seq = 5`);
    await expect(verify()).resolves.toMatchObject({ ok: false, brokenSeq: 5, reason: expect.stringMatching(/modified/) });
  });

  it('detects a deleted record in the middle', async () => {
    await fill(10);
    exec('DELETE FROM audit_records WHERE seq = 4');
    await expect(verify()).resolves.toMatchObject({ ok: false, brokenSeq: 4, reason: expect.stringMatching(/missing/) });
  });

  it('detects reordered records', async () => {
    await fill(10);
    exec(`UPDATE audit_records SET seq = -1 WHERE seq = 3; UPDATE audit_records SET seq = 3 WHERE seq = 6; UPDATE audit_records SET seq = 6 WHERE seq = -1;`);
    await expect(verify()).resolves.toMatchObject({ ok: false, brokenSeq: 3 });
  });

  it('detects a truncated tail through the signed checkpoint', async () => {
    await fill(10);
    exec('DELETE FROM audit_records WHERE seq > 7');
    await expect(verify()).resolves.toMatchObject({ ok: false, brokenSeq: 8, reason: expect.stringMatching(/deleted/) });
  });

  it('detects a rewritten chain that no longer matches a signed checkpoint', async () => {
    await fill(10);
    // Re-hashing everything from scratch would keep the chain consistent; the checkpoint signature does not follow.
    exec(`UPDATE audit_checkpoints SET hash = '${'f'.repeat(64)}'`);
    await expect(verify()).resolves.toMatchObject({ ok: false, reason: expect.stringMatching(/checkpoint/) });
  });

  it('an anchor kept off-host catches a rewrite that re-signs with a key planted in the database', async () => {
    await fill(6);
    const head = (await storage.audit.head()) as { seq: number; hash: string };
    const anchor = { seq: head.seq, hash: head.hash, kid: (await storage.signingKeys.list('audit'))[0]?.kid as string };
    // The attacker: wipe history and signing keys, write a fresh history with their own key.
    exec("DELETE FROM audit_records; DELETE FROM audit_checkpoints; DELETE FROM signing_keys WHERE use = 'audit';");
    const forger = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    for (let i = 0; i < 6; i++) await forger.append('call.intent', { actor: { sub: 'nobody' } }, { durable: true });
    await forger.checkpoint();
    await expect(verify()).resolves.toMatchObject({ ok: true, records: 6 });
    await expect(verifyAuditLog(storage.audit, storage.signingKeys, [anchor])).resolves.toMatchObject({
      ok: false,
      brokenSeq: 6,
      reason: expect.stringMatching(/differs from the anchor/),
    });
  });

  it('an anchor pins the signing key: a checkpoint by another key fails', async () => {
    await fill(3);
    const head = (await storage.audit.head()) as { seq: number; hash: string };
    await expect(verifyAuditLog(storage.audit, storage.signingKeys, [{ ...head, kid: 'some-other-key' }])).resolves.toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not the anchored audit key/),
    });
    const kid = (await storage.signingKeys.list('audit'))[0]?.kid as string;
    await expect(verifyAuditLog(storage.audit, storage.signingKeys, [{ ...head, kid }])).resolves.toMatchObject({ ok: true });
  });

  it('scrubs registered secrets out of records', async () => {
    secrets.register('canary-audit-5b1e');
    const record = await audit.append('call.intent', { args: { note: 'the key is canary-audit-5b1e' } }, { durable: true });
    expect(record?.body).not.toContain('canary-audit-5b1e');
    expect(record?.body).toContain('[REDACTED]');
  });

  it('fails closed: a durable append rejects when the store cannot write, and recovers after', async () => {
    await fill(2);
    exec("CREATE TRIGGER no_writes BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    await expect(audit.append('call.intent', { n: 1 }, { durable: true })).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(audit.healthy).toBe(false);
    expect(await storage.audit.count()).toBe(2);
    exec('DROP TRIGGER no_writes');
    await expect(audit.append('call.intent', { n: 2 }, { durable: true })).resolves.toMatchObject({ seq: 3 });
    expect(audit.healthy).toBe(true);
  });

  it('two writers (gateway and CLI) append to one chain without forking it', async () => {
    const other = SqliteStorage.open(dir);
    const otherLog = new AuditLog(other.audit, await new KeyRing(other.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => audit.append(AuditKind.CallIntent, { i }, { durable: true })),
      ...Array.from({ length: 10 }, (_, i) => otherLog.append(AuditKind.CallResult, { i }, { durable: true })),
    ]);
    await other.close();
    await expect(verify()).resolves.toMatchObject({ ok: true, records: 20 });
  });
});
