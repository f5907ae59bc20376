import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from './index.js';

describe('identity storage (SQLite only: its migrations and file)', () => {
  let dir: string;
  let storage: SqliteStorage;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-idstore-'));
    storage = SqliteStorage.open(dir);
  });
  afterEach(async () => storage.close());

  it('links existing federated users to the subject that last signed in when the federated-identities table is added', async () => {
    await storage.users.create(
      { name: 'carol', source: 'federated', groups: [], passwordHash: null, attributes: { idp: 'https://idp.example/', idp_sub: 'sub-c' } },
      1,
    );
    await storage.users.create({ name: 'nosub', source: 'federated', groups: [], passwordHash: null, attributes: { idp: 'https://idp.example' } }, 1);
    await storage.users.create(
      { name: 'alice', source: 'local', groups: [], passwordHash: 'h', attributes: { idp: 'https://idp.example', idp_sub: 'sub-a' } },
      1,
    );
    // Back to the schema before the table existed, then open again.
    storage.sql.db.exec("DROP TABLE federated_identities; DELETE FROM schema_migrations WHERE id = '0005-federated-identities'");
    await storage.close();
    storage = SqliteStorage.open(dir);
    expect(await storage.users.findFederated('https://idp.example', 'sub-c')).toMatchObject({ name: 'carol' });
    expect(await storage.users.federatedLinks('nosub')).toEqual([]);
    expect(await storage.users.findFederated('https://idp.example', 'sub-a')).toBeUndefined();
  });

  it('never stores artifact ids (codes, refresh tokens) in the database file', async () => {
    const code = 'C0DE-secret-value-that-must-not-be-on-disk';
    await storage.oauth.upsert(
      'AuthorizationCode',
      code,
      { jti: code, kind: 'AuthorizationCode', grantId: 'g1', accountId: 'alice', clientId: 'c1' },
      Date.now() + 60_000,
    );
    expect(await storage.oauth.find('AuthorizationCode', code)).toMatchObject({ jti: code, grantId: 'g1' });
    expect(await storage.oauth.find('AuthorizationCode', 'other')).toBeUndefined();
    storage.sql.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(path.join(dir, 'gatehouse.db')).toString('latin1');
    expect(bytes).not.toContain(code);
  });
});
