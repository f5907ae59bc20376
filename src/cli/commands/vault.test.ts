import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../storage/index.js';
import { LocalKeyProvider, Vault } from '../../vault/index.js';
import { main } from '../main.js';

const CANARY = `canary-cli-${randomBytes(8).toString('hex')}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function fixture() {
  const root = mkdtempSync(path.join(tmpdir(), 'gh-cli-vault-'));
  const home = path.join(root, 'home');
  const dataDir = path.join(root, 'data');
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH };
  const runs: Run[] = [];
  const gatehouse = async (args: string[], stdin = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> => {
    const out = collect();
    const err = collect();
    const code = await main(args, {
      stdout: out.stream,
      stderr: err.stream,
      stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
      env: { ...env, ...extraEnv },
    });
    const run = { code, stdout: out.text(), stderr: err.text() };
    runs.push(run);
    return run;
  };
  const allOutput = () => runs.map((r) => r.stdout + r.stderr).join('\n');
  return { root, home, dataDir, env, gatehouse, allOutput, keyFile: path.join(home, '.config', 'gatehouse', 'master.key') };
}

describe('gatehouse vault', () => {
  it('put reads stdin, creates the data dir and the key (0600, outside it), and says to back the key up', async () => {
    const f = fixture();
    const put = await f.gatehouse(['vault', 'put', 'stripe', '--data-dir', f.dataDir], `${CANARY}\n`);
    expect(put).toMatchObject({ code: 0, stdout: 'stored stripe (version 1)\n' });
    expect(put.stderr).toContain(`Created a new vault master key: ${f.keyFile} (mode 0600, key id local:`);
    expect(put.stderr).toContain('Losing the master key makes every secret in this vault unreadable');
    expect(put.stderr).toContain('gatehouse vault backup-key');
    expect(existsSync(path.join(f.dataDir, 'gatehouse.db'))).toBe(true);
    expect(statSync(f.keyFile).mode & 0o777).toBe(0o600);
    // The value is stored exactly (one trailing newline dropped) and encrypted at rest.
    const storage = SqliteStorage.open(f.dataDir);
    const key = Buffer.from(readFileSync(f.keyFile, 'utf8').trim(), 'base64');
    expect(await new Vault({ store: storage.vault, keys: () => new LocalKeyProvider(key, 'k') }).resolve('stripe', 'test')).toBe(CANARY);
    await storage.close();
    for (const file of readdirSync(f.dataDir)) expect(readFileSync(path.join(f.dataDir, file)).includes(Buffer.from(CANARY))).toBe(false);
    // A second put is a rotation and does not create another key.
    const again = await f.gatehouse(['vault', 'put', 'stripe', '--data-dir', f.dataDir], 'second-value');
    expect(again).toMatchObject({ code: 0, stdout: 'rotated stripe (now version 2)\n', stderr: '' });
  });

  it('list shows names and metadata, never values', async () => {
    const f = fixture();
    await f.gatehouse(['vault', 'put', 'pg-admin', '--data-dir', f.dataDir], CANARY);
    await f.gatehouse(['vault', 'put', 'gh', '--data-dir', f.dataDir], `${CANARY}-gh`);
    const list = await f.gatehouse(['vault', 'list', '--data-dir', f.dataDir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+VERSION\s+CREATED\s+ROTATED\s+AGE\s+LAST USED\s+USED BY\n/);
    expect(list.stdout).toMatch(/\ngh\s+1\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\S+\s+0d\s+-\s+-\n/);
    expect(list.stdout).toContain(`master key: key file ${f.keyFile}`);
    expect(list.stdout).toContain('Back it up: gatehouse vault backup-key');
    const json = await f.gatehouse(['vault', 'list', '--data-dir', f.dataDir, '--json']);
    const parsed = JSON.parse(json.stdout) as { secrets: Record<string, unknown>[]; key: { present: boolean } };
    expect(parsed.secrets.map((s) => s.name)).toEqual(['gh', 'pg-admin']);
    expect(Object.keys(parsed.secrets[0] ?? {}).sort()).toEqual([
      'ageDays',
      'createdAt',
      'kekId',
      'lastUsedAt',
      'name',
      'rotatedAt',
      'rotationDue',
      'usedBy',
      'version',
    ]);
    expect(parsed.key.present).toBe(true);
    expect(f.allOutput()).not.toContain(CANARY);
  });

  it('list warns about values older than 90 days and about references that are missing', async () => {
    const f = fixture();
    await f.gatehouse(['vault', 'put', 'old', '--data-dir', f.dataDir], 'v');
    const storage = SqliteStorage.open(f.dataDir);
    storage.sql.db.prepare('UPDATE vault_secrets SET rotated_at = ? WHERE name = ?').run(Date.now() - 95 * 86_400_000, 'old');
    await storage.close();
    const configFile = path.join(f.root, 'gatehouse.yaml');
    writeFileSync(configFile, 'servers:\n  gh:\n    command: gh-mcp\n    env: { GITHUB_TOKEN: vault:github }\n');
    const list = await f.gatehouse(['vault', 'list', '--config', configFile, '--data-dir', f.dataDir]);
    expect(list.stdout).toContain('WARNING old: value is 95 days old; rotate it (gatehouse vault rotate old): the limit is 90 days');
    expect(list.stdout).toContain('MISSING github: referenced by servers.gh.env.GITHUB_TOKEN but not in the vault');
    await f.gatehouse(['vault', 'put', 'fresh', '--data-dir', f.dataDir], 'v');
    const json = JSON.parse((await f.gatehouse(['vault', 'list', '--data-dir', f.dataDir, '--json'])).stdout) as { secrets: Record<string, unknown>[] };
    expect(json.secrets.map((s) => [s.name, s.ageDays, s.rotationDue])).toEqual([
      ['fresh', 0, false],
      ['old', 95, true],
    ]);
  });

  it('never takes a value from argv; bad names and empty values are usage errors; nothing is stored', async () => {
    const f = fixture();
    const argv = await f.gatehouse(['vault', 'put', 'stripe', CANARY, '--data-dir', f.dataDir]);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain('the value is read from stdin, never from the command line');
    expect(argv.stderr).not.toContain(CANARY);
    expect((await f.gatehouse(['vault', 'put', '../x', '--data-dir', f.dataDir], 'v')).code).toBe(2);
    const empty = await f.gatehouse(['vault', 'put', 'stripe', '--data-dir', f.dataDir], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no value on stdin for stripe');
    expect((await f.gatehouse(['vault', 'put', '--data-dir', f.dataDir], 'v')).code).toBe(2);
    const list = await f.gatehouse(['vault', 'list', '--data-dir', f.dataDir, '--json']);
    expect(JSON.parse(list.stdout).secrets).toEqual([]);
    expect(existsSync(f.keyFile)).toBe(false);
  });

  it('rotate needs an existing name; delete removes it; both exit 1 when it is missing', async () => {
    const f = fixture();
    const rotateMissing = await f.gatehouse(['vault', 'rotate', 'nope', '--data-dir', f.dataDir], 'v');
    expect(rotateMissing).toMatchObject({ code: 1, stderr: 'gatehouse: vault secret "nope" does not exist (create it with: gatehouse vault put nope)\n' });
    await f.gatehouse(['vault', 'put', 'gh', '--data-dir', f.dataDir], 'v1');
    expect(await f.gatehouse(['vault', 'rotate', 'gh', '--data-dir', f.dataDir], 'v2')).toMatchObject({ code: 0, stdout: 'rotated gh (now version 2)\n' });
    expect(await f.gatehouse(['vault', 'delete', 'gh', '--data-dir', f.dataDir])).toMatchObject({ code: 0, stdout: 'deleted gh\n' });
    expect(await f.gatehouse(['vault', 'delete', 'gh', '--data-dir', f.dataDir])).toMatchObject({ code: 1, stderr: 'gatehouse: no vault secret named "gh"\n' });
    const json = await f.gatehouse(['vault', 'delete', 'gh', '--data-dir', f.dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, code: 'vault.not_found', error: 'no vault secret named "gh"' });
  });

  it('refuses to seal with a different key than the vault was sealed with, and never creates a second key for it', async () => {
    const f = fixture();
    await f.gatehouse(['vault', 'put', 'a', '--data-dir', f.dataDir], 'v');
    const other = randomBytes(32).toString('base64');
    const wrong = await f.gatehouse(['vault', 'put', 'b', '--data-dir', f.dataDir], 'v', { GATEHOUSE_MASTER_KEY: other });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^gatehouse: this vault's entries were sealed with master key local:\S+, but the key from environment variable GATEHOUSE_MASTER_KEY is local:\S+\. Use the original key/,
    );
    // The key file lost: the vault has entries, so no new key is generated.
    const lostHome = path.join(f.root, 'elsewhere');
    const lost = await f.gatehouse(['vault', 'put', 'b', '--data-dir', f.dataDir], 'v', { HOME: lostHome });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain('no master key: GATEHOUSE_MASTER_KEY is not set');
    expect(existsSync(path.join(lostHome, '.config', 'gatehouse', 'master.key'))).toBe(false);
  });

  it('backup-key prints or writes the key (0600, outside the data dir), and the backup restores the vault', async () => {
    const f = fixture();
    await f.gatehouse(['vault', 'put', 'a', '--data-dir', f.dataDir], CANARY);
    const printed = await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir]);
    expect(printed.code).toBe(0);
    expect(printed.stdout.trim()).toBe(readFileSync(f.keyFile, 'utf8').trim());
    expect(printed.stderr).toContain('restore with GATEHOUSE_MASTER_KEY=<key>');
    const out = path.join(f.root, 'backup.key');
    expect(await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir, '--out', out])).toMatchObject({ code: 0 });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir, '--out', out])).stderr).toContain('it already exists');
    expect((await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir, '--out', path.join(f.dataDir, 'k')])).code).toBe(2);
    // Restore: the original key file is gone; the backup in GATEHOUSE_MASTER_KEY opens the vault.
    const restored = await f.gatehouse(['vault', 'rotate', 'a', '--data-dir', f.dataDir], 'new', {
      HOME: path.join(f.root, 'fresh'),
      GATEHOUSE_MASTER_KEY: readFileSync(out, 'utf8').trim(),
    });
    expect(restored.code).toBe(0);
    const none = await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir], '', { HOME: path.join(f.root, 'fresh') });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no master key');
  });

  it('audits every change without the value', async () => {
    const f = fixture();
    await f.gatehouse(['vault', 'put', 'a', '--data-dir', f.dataDir], CANARY);
    await f.gatehouse(['vault', 'rotate', 'a', '--data-dir', f.dataDir], `${CANARY}-2`);
    await f.gatehouse(['vault', 'backup-key', '--data-dir', f.dataDir, '--out', path.join(f.root, 'k')]);
    await f.gatehouse(['vault', 'delete', 'a', '--data-dir', f.dataDir]);
    const storage = SqliteStorage.open(f.dataDir);
    const records = await storage.audit.query({ limit: 100 });
    await storage.close();
    expect(records.map((r) => r.kind)).toEqual(['vault.put', 'vault.rotate', 'vault.key_backup', 'vault.delete']);
    expect(JSON.parse(records[1]?.body ?? '{}')).toMatchObject({ actor: { sub: expect.stringMatching(/^os:/) }, secret: 'a', version: 2 });
    expect(records.map((r) => r.body).join('\n')).not.toContain(CANARY);
    expect((await f.gatehouse(['audit', 'verify', '--data-dir', f.dataDir])).code).toBe(0);
  });
});
