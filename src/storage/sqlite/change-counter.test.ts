import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';

describe('externalChanges', () => {
  let dir: string;
  let gateway: SqliteDatabase;
  let cli: SqliteDatabase;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-changes-'));
    gateway = SqliteDatabase.open(dir);
    cli = SqliteDatabase.open(dir);
    gateway.externalChanges();
  });
  afterEach(() => {
    gateway.close();
    cli.close();
  });

  it('ignores commits to tables nobody caches (the audit writer commits on its own connection constantly)', () => {
    cli.db.exec(`INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash) VALUES (1, 0, 'k', '{}', 'p', 'h')`);
    cli.db.exec(`INSERT INTO settings (key, value) VALUES ('x', 'y')`);
    expect(gateway.externalChanges()).toBe(false);
  });

  it('reports a revocation, a user change or a new signing key written by another process, once', () => {
    cli.db.exec(`INSERT INTO users (name, groups, source, created_at, updated_at) VALUES ('alice', '[]', 'local', 0, 0)`);
    expect(gateway.externalChanges()).toBe(true);
    expect(gateway.externalChanges()).toBe(false);
    cli.db.exec(`DELETE FROM users WHERE name = 'alice'`);
    expect(gateway.externalChanges()).toBe(true);
  });

  it('does not report nothing', () => {
    expect(gateway.externalChanges()).toBe(false);
  });
});
