import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, connectClient, NODE, startGateway, waitFor, type AuditRow, type GatewayProcess } from '../helpers/e2e.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENV_ECHO = path.join(ROOT, 'test/fixtures/env-echo-server.mjs');
const BAKED_AWS = 'AKIA2E0A8F3B244C9986';
const BAKED_GITHUB = 'ghp_R8x2Kq7LmN4pV6tY9wZ3aB5cD1eF0gH2jK4l';

/**
 * The output sanitizer on a real gateway in front of a server that hands back its environment,
 * its `.env` file and customer rows: credentials and personal data are redacted, fields above
 * the caller's clearance withheld, a tool above it refused before it runs, and the audit log
 * counts what happened without holding a value.
 */
describe('sanitize: an upstream that echoes its environment, classification and clearance', () => {
  const dbPassword = `db-pw-${randomBytes(9).toString('hex')}`;
  const aws = 'AKIAZ7Q2KXW4P5N6J3HL';
  const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const github = `ghp_${randomBytes(18).toString('hex').slice(0, 36)}`;
  let gw: GatewayProcess;
  let callsFile: string;

  beforeAll(async () => {
    callsFile = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-calls-')), 'calls');
    gw = await startGateway({
      config: {
        servers: {
          app: {
            command: NODE,
            args: [ENV_ECHO],
            env: {
              // Resolved from the gateway's environment: a credential Gatehouse holds.
              DB_PASSWORD: '${E2E_DB_PASSWORD}',
              DATABASE_URL: 'postgres://app:${E2E_DB_PASSWORD}@db.internal:5432/app',
              AWS_ACCESS_KEY_ID: aws,
              AWS_SECRET_ACCESS_KEY: awsSecret,
              GITHUB_TOKEN: github,
              SUPPORT_EMAIL: 'support@example.com',
              CALLS_FILE: callsFile,
            },
            // Sandboxed like every stdio server: the folder of its call log is granted.
            sandbox: { writable: [path.dirname(callsFile)] },
            fields: { salary: 'confidential' },
            tools: { customers_full: { classification: 'confidential' } },
          },
        },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['app'] } }],
        naming: { mode: 'always' },
        sanitize: { clearance: { groups: { analysts: 'confidential' } } },
      },
      env: { E2E_DB_PASSWORD: dbPassword },
    });
  });
  afterAll(cleanup);

  const lastRecord = (match: (r: AuditRow) => boolean) => waitFor(() => auditRows(gw.dataDir).filter(match).at(-1), 'the audit record of the call');
  const textOf = (r: unknown) => ((r as { content: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('\n');

  it('redacts a server that prints its own environment: held values, secret formats, personal data', async () => {
    const client = await connectClient(gw, await gw.token('alice'));
    const result = await client.callTool({ name: 'app__env', arguments: {} });
    const wire = JSON.stringify(result);
    for (const leaked of [dbPassword, aws, awsSecret, github, BAKED_AWS, BAKED_GITHUB, 'support@example.com']) expect(wire).not.toContain(leaked);
    const out = textOf(result);
    // Values the gateway itself put there (${VAR}-resolved and inline config literals) are held credentials.
    expect(out).toContain('DB_PASSWORD=[REDACTED:vault]');
    expect(out).toContain('AWS_ACCESS_KEY_ID=[REDACTED:vault]');
    expect(out).toContain('GITHUB_TOKEN=[REDACTED:vault]');
    // Values it never knew are found by their format.
    expect(out).toContain('BAKED_AWS_KEY=[REDACTED:aws_access_key]');
    expect(out).toContain('BAKED_GITHUB_TOKEN=[REDACTED:github_token]');
    expect(out).toContain('SUPPORT_EMAIL=[REDACTED:email]');
    expect(out).toMatch(/DATABASE_URL=\[REDACTED:[a-z_]+\]/);
    // The audit record of the call counts redactions by type and channel; no value anywhere in the log.
    const record = await lastRecord((r) => r.kind === 'call.result' && r.body.target?.tool === 'app__env');
    const rows = auditRows(gw.dataDir);
    const report = (record?.body as { notes?: { sanitize?: Record<string, unknown> } }).notes?.sanitize as {
      channel: string;
      redactions: Record<string, number>;
    };
    expect(report.channel).toBe('result');
    expect(report.redactions.vault).toBeGreaterThanOrEqual(8);
    expect(report.redactions.aws_access_key).toBeGreaterThanOrEqual(1);
    expect(report.redactions.email).toBeGreaterThanOrEqual(1);
    const all = rows.map((r) => r.rawBody).join('\n');
    for (const leaked of [dbPassword, aws, github, BAKED_AWS, BAKED_GITHUB]) expect(all).not.toContain(leaked);
  });

  it('redacts a .env file in text and inside a base64 resource blob', async () => {
    const client = await connectClient(gw, await gw.token('alice'));
    const result = (await client.callTool({ name: 'app__dotenv', arguments: {} })) as {
      content: { type: string; text?: string; resource?: { blob: string } }[];
    };
    const blob = Buffer.from(result.content[1]!.resource!.blob, 'base64').toString('utf8');
    for (const file of [result.content[0]!.text!, blob]) {
      for (const leaked of [dbPassword, aws, awsSecret, github, BAKED_AWS, BAKED_GITHUB, 'support@example.com']) expect(file).not.toContain(leaked);
      expect(file).toContain('BAKED_AWS_KEY=[REDACTED:aws_access_key]');
      expect(file).toContain('AWS_ACCESS_KEY_ID=[REDACTED:vault]');
      expect(file).toContain('DB_PASSWORD=[REDACTED:vault]');
    }
  });

  it('withholds a confidential field from a user without clearance, and the audit log says so; a cleared user sees it', async () => {
    const alice = await connectClient(gw, await gw.token('alice'));
    const result = (await alice.callTool({ name: 'app__customers', arguments: {} })) as unknown as { structuredContent: { rows: Record<string, unknown>[] } };
    expect(result.structuredContent.rows.map((r) => r.salary)).toEqual(['[WITHHELD:confidential]', '[WITHHELD:confidential]']);
    expect(JSON.stringify(result)).not.toMatch(/98000|87000/);
    // Personal data is masked for everyone; other fields pass.
    expect(result.structuredContent.rows[0]).toMatchObject({ name: 'Ann Lee', email: '[REDACTED:email]', ssn: '[REDACTED:ssn]', tier: 'gold' });
    const record = await lastRecord((r) => r.kind === 'call.result' && r.body.actor?.sub === 'alice' && r.body.target?.tool === 'app__customers');
    expect((record?.body as { notes: { sanitize: { withheld: unknown } } }).notes.sanitize.withheld).toEqual({
      fields: 4,
      names: ['salary'],
      clearance: 'internal',
    });

    const bob = await connectClient(gw, await gw.token('bob', { groups: ['analysts'] }));
    const cleared = (await bob.callTool({ name: 'app__customers', arguments: {} })) as unknown as { structuredContent: { rows: Record<string, unknown>[] } };
    expect(cleared.structuredContent.rows.map((r) => r.salary)).toEqual([98000, 87000]);
  });

  it('refuses a tool classified above the caller’s clearance before it runs', async () => {
    const alice = await connectClient(gw, await gw.token('alice'));
    const refused = await alice.callTool({ name: 'app__customers_full', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string; data?: { reason?: string } },
    );
    expect(refused?.code).toBe(-32003);
    expect(refused?.message).toContain('clearance (internal)');
    expect(refused?.data?.reason).toBe('output.above_clearance');
    expect(existsSync(callsFile)).toBe(false);
    const bob = await connectClient(gw, await gw.token('bob', { groups: ['analysts'] }));
    await bob.callTool({ name: 'app__customers_full', arguments: {} });
    expect(existsSync(callsFile)).toBe(true);
  });

  it('does not hand back a credential the caller put in an unknown tool’s name (errors channel)', async () => {
    const client = await connectClient(gw, await gw.token('alice'));
    const error = await client.callTool({ name: `app__x${dbPassword}`, arguments: {} }).then(
      (r) => JSON.stringify(r),
      (e: unknown) => JSON.stringify({ message: (e as Error).message, data: (e as { data?: unknown }).data }),
    );
    expect(error).toMatch(/Unknown tool/);
    expect(error).not.toContain(dbPassword);
    expect(error).toContain('[REDACTED:vault]');
  });

  it('bounds large results before scanning: past the scan limit text is cut (and says so), a 20 MB result is refused unread', async () => {
    const client = await connectClient(gw, await gw.token('alice'));
    // 6 MB: under the upstream limit (16 MB), over the scan limit (4 MB): cut, the tail never relayed.
    const cut = textOf(await client.callTool({ name: 'app__dump', arguments: { mb: 6 } }, undefined, { timeout: 120_000 }));
    expect(cut).toMatch(/\[TRUNCATED: \d+ characters past the scan limit\]$/);
    expect(cut).not.toContain(BAKED_AWS);
    expect(cut.length).toBeLessThan(4.1 * 1024 * 1024);
    const cutRecord = await lastRecord((r) => r.kind === 'call.result' && r.body.target?.tool === 'app__dump');
    expect((cutRecord.body as { notes: { sanitize: { unscannedChars: number } } }).notes.sanitize.unscannedChars).toBeGreaterThan(2 * 1024 * 1024);
    // 20 MB: refused by the upstream reader at its limit, never buffered whole or scanned.
    const refused = await client.callTool({ name: 'app__dump', arguments: { mb: 20 } }, undefined, { timeout: 120_000 }).then(
      (r) => JSON.stringify(r),
      (e: unknown) => (e as Error).message,
    );
    expect(refused).toBe('MCP error -32011: The upstream server "app" sent a response larger than the gateway accepts (16777216 bytes).');
    expect(refused).not.toContain(BAKED_AWS);
    // The gateway and the upstream still answer.
    expect(textOf(await client.callTool({ name: 'app__customers', arguments: {} }))).toContain('Ann Lee');
  });
});
