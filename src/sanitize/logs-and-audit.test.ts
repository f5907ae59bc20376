// Logs and audit records go through the same secret-format detection as agent-visible output
// (secretlint's rules): a credential Gatehouse never held — typed into a SQL string by an
// agent, quoted in an upstream's stderr — is not written to either.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/index.js';
import { createLogger, secrets, silentLogger } from '../log/index.js';
import { SqliteStorage } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';
import { secretFormatSpans } from './detect/format-spans.js';
// Loading the sanitizer is what hands its engine to the log room (as the gateway does).
import './sanitizer.js';

// Fake credentials in the formats secretlint recognises (none of them valid anywhere).
const AWS = 'AKIAQWERTYUIOPASDFGH';
const GITHUB = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2).slice(0, 36)}`;
const PEM = `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA${'x'.repeat(64)}\n-----END RSA PRIVATE KEY-----`;
const DB_URL = 'postgres://app:s3cr3t-Passw0rd@db.internal:5432/app';

describe('secret formats in logs and audit records', () => {
  it('the shared redactor replaces each format, and only it', () => {
    for (const secret of [AWS, GITHUB, PEM]) {
      const out = secrets.scrub(`before ${secret} after`);
      expect(out, secret).not.toContain(secret.slice(4, 16));
      expect(out).toMatch(/^before .*\[REDACTED\].* after$/s);
    }
    expect(secrets.scrub(`url ${DB_URL}`)).not.toContain('s3cr3t-Passw0rd');
    // Ordinary text, identifiers and e-mail addresses stay (people and records are what an audit trail is about).
    const plain = 'alice@example.com ran SELECT id FROM tickets WHERE id = 42 (request 7f3c2a)';
    expect(secrets.scrub(plain)).toBe(plain);
  });

  it('spans are sorted, merged, and cover text past the scan cap', () => {
    const spans = secretFormatSpans(`${AWS} and ${AWS}`);
    expect(spans).toHaveLength(2);
    expect(spans[0]![1]).toBeLessThanOrEqual(spans[1]![0]);
    const huge = `x${' '.repeat(1_100_000)}${AWS}`;
    const last = secretFormatSpans(huge).at(-1)!;
    expect(last[1]).toBe(huge.length);
    expect(last[0]).toBeLessThan(huge.length - AWS.length);
  });

  it('a log line never carries the credential, wherever it sits in the record', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ stderr: `boto: using key ${AWS}`, nested: { q: `-- ${GITHUB}` } }, `upstream said ${DB_URL}`);
    const text = lines.join('');
    expect(text).toContain('upstream said');
    expect(text).toContain('boto: using key');
    expect(text).not.toContain(AWS);
    expect(text).not.toContain(GITHUB);
    expect(text).not.toContain('s3cr3t-Passw0rd');
  });

  describe('audit records', () => {
    let dir: string;
    let storage: SqliteStorage;
    let audit: AuditLog;
    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'gh-fmt-'));
      storage = SqliteStorage.open(dir);
      audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
        checkpointEvery: 1000,
        checkpointIntervalMs: 60_000,
      });
    });
    afterEach(async () => {
      await audit.close();
      await storage.close();
    });

    it('the real SQL is kept, the credential typed into it is not', async () => {
      const sql = `SELECT id FROM keys WHERE access_key = '${AWS}' AND token = '${GITHUB}'`;
      await audit.append('call.result', { actor: { sub: 'alice' }, notes: { downstream: { sql, url: DB_URL } }, error: PEM }, { durable: true });
      const [record] = await storage.audit.query({});
      const body = record!.body;
      for (const leaked of [AWS, GITHUB, 's3cr3t-Passw0rd', 'MIIEowIBAAKCAQEA']) expect(body).not.toContain(leaked);
      expect(body).toContain('SELECT id FROM keys WHERE access_key = ');
      expect(body).toContain('alice');
      expect(JSON.parse(body).notes.downstream.sql).toContain('[REDACTED]');
    });
  });
});
