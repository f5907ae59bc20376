import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AuditKind, AuditLog, namedActor } from '../../src/audit/index.js';
import { silentLogger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { KeyRing } from '../../src/tokens/index.js';

/** Appends `count` token-issue records under a fresh audit key, as a forger with write access to the data dir could. */
async function forgeHistory(dataDir: string, count: number): Promise<void> {
  const storage = SqliteStorage.open(dataDir);
  try {
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 300_000,
    });
    for (let i = 0; i < count; i++) await audit.append(AuditKind.TokenIssued, { actor: namedActor('os:mallory'), sub: 'mallory' }, { durable: true });
    await audit.close();
  } finally {
    await storage.close();
  }
}
import {
  auditRows,
  cleanup,
  cli,
  connectClient,
  copyDataDir,
  ECHO_SERVER,
  execSql,
  isAlive,
  NODE,
  sleep,
  startGateway,
  tempDir,
  text,
  waitFor,
  writeConfig,
  type GatewayProcess,
} from '../helpers/e2e.js';

const JWT = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const echoConfig = { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] };

/** The `gatehouse` command's contracts (../shared/CONTRACTS.md), against a real data dir. */
describe('CLI contracts', () => {
  let gw: GatewayProcess;
  /** Records of the calls below: between the two, for `--since`. */
  let between: string;

  beforeAll(async () => {
    gw = await startGateway({ config: echoConfig });
    const alice = await connectClient(gw, await gw.token('alice'));
    await alice.callTool({ name: 'echo', arguments: { text: 'first' } });
    await alice.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    await waitFor(() => auditRows(gw.dataDir).filter((r) => r.kind === 'call.result').length === 2, 'the first results');
    await sleep(20);
    between = new Date().toISOString();
    await sleep(20);
    await alice.callTool({ name: 'echo', arguments: { text: 'second' } });
    const bob = await connectClient(gw, await gw.token('bob'));
    await bob.callTool({ name: 'echo', arguments: { text: 'denied' } }).catch(() => undefined);
    await waitFor(() => auditRows(gw.dataDir).filter((r) => r.kind === 'call.result' || r.kind === 'call.denied').length === 4, 'all outcome records');
  });
  afterAll(cleanup);

  describe('while the gateway runs', () => {
    it('`status` exits 0 when ready, with --config or with --data-dir alone', async () => {
      const withConfig = await cli(['status', '--config', gw.configPath]);
      expect(withConfig.code, withConfig.stderr).toBe(0);
      expect(withConfig.stdout).toContain(`gatehouse at ${gw.url}: ready`);
      expect(withConfig.stdout).toMatch(/echo: ready \(shared: ready pid \d+, 14 tools\)/);
      const dataDirOnly = await cli(['status', '--data-dir', gw.dataDir, '--json']);
      expect(dataDirOnly.code, dataDirOnly.stderr).toBe(0);
      expect(JSON.parse(dataDirOnly.stdout)).toMatchObject({ running: true, url: gw.url, ready: true, storage: true, audit: true });
    });

    it('`token issue` prints the token alone on stdout, and the gateway accepts it', async () => {
      const result = await cli(['token', 'issue', '--data-dir', gw.dataDir, '--sub', 'alice', '--ttl', '2m', '--groups', 'ops,dev']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout.endsWith('\n')).toBe(true);
      const token = result.stdout.trimEnd();
      expect(token).toMatch(JWT);
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({ sub: 'alice', groups: ['ops', 'dev'], iss: gw.url, aud: `${gw.url}/mcp` });
      expect((claims.exp as number) - (claims.iat as number)).toBe(120);
      const client = await connectClient(gw, token);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'issued' } }))).toBe('issued');
    });

    it('`token issue` refuses a TTL above 15 minutes, a bad TTL and a missing --sub with exit 2 and no token', async () => {
      for (const args of [
        ['--sub', 'alice', '--ttl', '16m'],
        ['--sub', 'alice', '--ttl', 'soon'],
        ['--ttl', '5m'],
      ]) {
        const result = await cli(['token', 'issue', '--data-dir', gw.dataDir, ...args]);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(/^gatehouse token issue: /);
      }
      expect((await cli(['token', 'issue', '--data-dir', gw.dataDir, '--sub', 'alice', '--ttl', '16m'])).stderr).toContain('--ttl must be between 1s and 15m');
    });

    it('`audit query --user --tool` returns only that user’s records for that tool', async () => {
      const result = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--user', 'alice', '--tool', 'echo__echo', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const records = JSON.parse(result.stdout) as { kind: string; actor: { sub: string }; target: { tool: string }; args?: { text: string } }[];
      expect(records.map((r) => r.kind)).toEqual(['call.intent', 'call.result', 'call.intent', 'call.result', 'call.intent', 'call.result']);
      expect(records.every((r) => r.actor.sub === 'alice' && r.target.tool === 'echo__echo')).toBe(true);
      expect(records.filter((r) => r.args).map((r) => r.args?.text)).toEqual(['first', 'second', 'issued']);

      const bob = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--user', 'bob']);
      expect(bob.code, bob.stderr).toBe(0);
      expect(bob.stdout).toMatch(/call\.denied\s+bob\s+tools\/call\s+echo__echo\s+denied\s+not_allowed/);
      expect(bob.stdout).not.toContain('alice');
    });

    it('`audit query --since` takes an ISO time or a duration', async () => {
      const since = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--user', 'alice', '--tool', 'echo__echo', '--since', between, '--json']);
      const texts = (JSON.parse(since.stdout) as { args?: { text: string } }[]).filter((r) => r.args).map((r) => r.args?.text);
      expect(texts).toEqual(['second', 'issued']);
      const hour = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--tool', 'echo__add', '--since', '1h', '--json']);
      expect((JSON.parse(hour.stdout) as unknown[]).length).toBe(2);
      const future = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--since', new Date(Date.now() + 3_600_000).toISOString()]);
      expect(future).toMatchObject({ code: 0, stdout: '' });
      expect(future.stderr).toContain('no matching audit records');
      const bad = await cli(['audit', 'query', '--data-dir', gw.dataDir, '--since', 'yesterday-ish']);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain('--since: expected a duration like 1h or an ISO date');
    });
  });

  describe('after the gateway stopped', () => {
    let rows: ReturnType<typeof auditRows>;

    beforeAll(async () => {
      expect(await gw.stop()).toEqual({ code: 0, signal: null });
      rows = auditRows(gw.dataDir);
    });

    it('`status` exits 1 when the gateway is not running', async () => {
      for (const args of [
        ['--config', gw.configPath],
        ['--data-dir', gw.dataDir],
      ]) {
        const result = await cli(['status', ...args]);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stdout).toContain(`gatehouse is not reachable at ${gw.url}`);
      }
    });

    it('`audit verify` exits 0 and prints the exact record count', async () => {
      const result = await cli(['audit', 'verify', '--data-dir', gw.dataDir]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^audit log intact: ${rows.length} records, \\d+ signed checkpoints, head #${rows.length}\\n$`));
      const json = JSON.parse((await cli(['audit', 'verify', '--data-dir', gw.dataDir, '--json'])).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ ok: true, records: rows.length, headSeq: rows.length, headHash: rows.at(-1)?.hash });
    });

    it('`audit export` writes JSON Lines: one record per line, in chain order', async () => {
      const result = await cli(['audit', 'export', '--data-dir', gw.dataDir]);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(rows.length);
      const records = lines.map((line) => JSON.parse(line) as { seq: number; kind: string; hash: string; prevHash: string });
      expect(records.map((r) => r.seq)).toEqual(rows.map((r) => r.seq));
      expect(records.map((r) => r.kind)).toEqual(rows.map((r) => r.kind));
      for (let i = 1; i < records.length; i++) expect(records[i]?.prevHash).toBe(records[i - 1]?.hash);

      const out = path.join(tempDir(), 'audit.jsonl');
      const toFile = await cli(['audit', 'export', '--data-dir', gw.dataDir, '--since', between, '--out', out]);
      expect(toFile.code, toFile.stderr).toBe(0);
      expect(toFile.stdout).toBe('');
      const expected = rows.filter((r) => r.ts >= Date.parse(between)).length;
      expect(toFile.stderr).toBe(`exported ${expected} records to ${out}\n`);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    });

    describe('`audit verify` detects direct edits of the database', () => {
      /** The first call record: a row in the middle of the chain. */
      const target = () => rows.find((r) => r.kind === 'call.intent')?.seq as number;

      async function verifyBroken(dataDir: string): Promise<{ stderr: string; json: Record<string, unknown> }> {
        const result = await cli(['audit', 'verify', '--data-dir', dataDir]);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stdout).toBe('');
        const json = await cli(['audit', 'verify', '--data-dir', dataDir, '--json']);
        expect(json.code, json.stderr).toBe(1);
        return { stderr: result.stderr, json: JSON.parse(json.stdout) as Record<string, unknown> };
      }

      it('an edited record', async () => {
        const copy = copyDataDir(gw.dataDir);
        const seq = target();
        expect(seq).toBeGreaterThan(1);
        execSql(copy, `UPDATE audit_records SET body = replace(body, '"alice"', '"mallory"') WHERE seq = ${seq}`);
        expect(auditRows(copy).find((r) => r.seq === seq)?.body.actor?.sub).toBe('mallory');
        const { stderr, json } = await verifyBroken(copy);
        expect(stderr).toBe(`audit log BROKEN at record #${seq}: record #${seq} was modified (hash mismatch) (${seq - 1} records verified before it)\n`);
        expect(json).toEqual({ ok: false, records: seq - 1, brokenSeq: seq, reason: `record #${seq} was modified (hash mismatch)` });
      });

      it('a deleted record', async () => {
        const copy = copyDataDir(gw.dataDir);
        const seq = target();
        execSql(copy, `DELETE FROM audit_records WHERE seq = ${seq}`);
        const { stderr, json } = await verifyBroken(copy);
        expect(stderr).toContain(`audit log BROKEN at record #${seq}: record #${seq} is missing (next record is #${seq + 1})`);
        expect(json).toMatchObject({ ok: false, brokenSeq: seq });
      });

      it('two records swapped', async () => {
        const copy = copyDataDir(gw.dataDir);
        const seq = target();
        // Swap every column but seq, so the table still counts 1..N without gaps.
        execSql(
          copy,
          `UPDATE audit_records SET (ts, kind, body, prev_hash, hash) =
             (SELECT o.ts, o.kind, o.body, o.prev_hash, o.hash FROM audit_records o WHERE o.seq = (CASE audit_records.seq WHEN ${seq} THEN ${seq + 1} ELSE ${seq} END))
           WHERE seq IN (${seq}, ${seq + 1})`,
        );
        const swapped = auditRows(copy);
        expect(swapped.find((r) => r.seq === seq)?.hash).toBe(rows.find((r) => r.seq === seq + 1)?.hash);
        const { stderr, json } = await verifyBroken(copy);
        expect(stderr).toContain(`audit log BROKEN at record #${seq}: record #${seq} does not follow record #${seq - 1}`);
        expect(json).toMatchObject({ ok: false, brokenSeq: seq });
      });

      it('a truncated tail (caught by the signed checkpoint)', async () => {
        const copy = copyDataDir(gw.dataDir);
        const last = rows.length;
        execSql(copy, `DELETE FROM audit_records WHERE seq = ${last}`);
        const { stderr } = await verifyBroken(copy);
        expect(stderr).toContain(`audit log BROKEN at record #${last}: records after #${last - 1} were deleted`);
      });

      it('a history rewritten and re-signed with a planted key (caught by an anchor kept off-host)', async () => {
        const copy = copyDataDir(gw.dataDir);
        const anchorFile = path.join(tempDir(), 'anchor.jsonl');
        const anchored = await cli(['audit', 'anchor', '--data-dir', copy, '--out', anchorFile]);
        expect(anchored.code, anchored.stderr).toBe(0);
        expect(anchored.stderr).toMatch(/^anchored #\d+ to .*anchor\.jsonl; keep a copy off this machine\n$/);
        expect(statSync(anchorFile).mode & 0o777).toBe(0o600);
        expect(await cli(['audit', 'verify', '--data-dir', copy, '--anchor', anchorFile])).toMatchObject({
          code: 0,
          stdout: expect.stringMatching(/1 anchor\(s\) matched/),
        });
        // Rewrite: new history, new audit key, fresh checkpoint — internally consistent.
        execSql(copy, "DELETE FROM audit_records; DELETE FROM audit_checkpoints; DELETE FROM signing_keys WHERE use = 'audit';");
        // The forger writes one record more than the history had, as `token issue` would, in one
        // process (a CLI process per record made this test's time grow with the history).
        await forgeHistory(copy, rows.length + 1);
        expect((await cli(['token', 'issue', '--data-dir', copy, '--sub', 'mallory'])).code).toBe(0);
        expect((await cli(['audit', 'anchor', '--data-dir', copy])).code).toBe(0);
        expect((await cli(['audit', 'verify', '--data-dir', copy])).code).toBe(0);
        const result = await cli(['audit', 'verify', '--data-dir', copy, '--anchor', anchorFile]);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          /audit log BROKEN at record #\d+: (record #\d+ differs from the anchor kept outside the database|checkpoint at #\d+ is signed by key .*, not the anchored audit key)/,
        );
      });
    });
  });

  describe('commands that only touch the data dir', () => {
    it('work with --data-dir alone and create the folder if it is missing', async () => {
      const verifyDir = path.join(tempDir(), 'new', 'data');
      const verify = await cli(['audit', 'verify', '--data-dir', verifyDir]);
      expect(verify).toMatchObject({ code: 0, stderr: '' });
      expect(verify.stdout).toBe('audit log intact: 0 records, 0 signed checkpoints, head #0\n');
      expect(existsSync(path.join(verifyDir, 'gatehouse.db'))).toBe(true);

      const queryDir = path.join(tempDir(), 'q');
      expect(await cli(['audit', 'query', '--data-dir', queryDir])).toMatchObject({ code: 0, stdout: '' });
      expect(existsSync(queryDir)).toBe(true);
    });

    it('`token issue` on a fresh data dir without --config exits 1: no public URL is known', async () => {
      const dir = path.join(tempDir(), 'fresh');
      const result = await cli(['token', 'issue', '--data-dir', dir, '--sub', 'alice']);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('no public URL is known for this data dir; start the gateway once or pass --config');
      expect(existsSync(dir)).toBe(true);
      expect(auditRows(dir)).toEqual([]);
    });

    it('`token issue` with --config on a fresh data dir uses the configured public URL', async () => {
      const dir = tempDir();
      const { configPath, port } = await writeConfig(dir, echoConfig);
      const result = await cli(['token', 'issue', '--config', configPath, '--data-dir', path.join(dir, 'data'), '--sub', 'carol']);
      expect(result.code, result.stderr).toBe(0);
      const claims = JSON.parse(Buffer.from(result.stdout.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({ sub: 'carol', aud: `http://127.0.0.1:${port}/mcp` });
      expect(auditRows(path.join(dir, 'data')).map((r) => r.kind)).toEqual(['admin.token_issued']);
    });
  });

  describe('import-mcp-config', () => {
    const secrets = ['ghp_canaryTOKEN1234567890', 's3cret-Passw0rd', 'sk-live-canary987654321'];
    let source: string;

    beforeAll(() => {
      source = path.join(tempDir(), 'claude_desktop_config.json');
      writeFileSync(
        source,
        JSON.stringify({
          mcpServers: {
            github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: secrets[0] } },
            postgres: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-postgres', `postgresql://admin:${secrets[1]}@db.internal:5432/prod`] },
            'remote api': { url: 'https://mcp.example.com/mcp', headers: { Authorization: `Bearer ${secrets[2]}`, 'X-Tenant': 'acme' } },
          },
        }),
      );
    });

    it('turns a Claude Desktop config into gatehouse.yaml with ${VAR} references and no secret values', async () => {
      const result = await cli(['import-mcp-config', source]);
      expect(result.code, result.stderr).toBe(0);
      for (const secret of secrets) {
        expect(result.stdout).not.toContain(secret);
        expect(result.stderr).not.toContain(secret);
      }
      const config = parse(result.stdout) as {
        servers: Record<string, { command?: string; args?: string[]; env?: Record<string, string>; url?: string; headers?: Record<string, string> }>;
        access: unknown[];
      };
      expect(config.servers.github).toEqual({
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github'],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${GITHUB_GITHUB_PERSONAL_ACCESS_TOKEN}' },
      });
      expect(config.servers.postgres?.args?.[2]).toBe('postgresql://admin:${POSTGRES_ARG2_PASSWORD}@db.internal:5432/prod');
      expect(config.servers['remote-api']).toEqual({
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: '${REMOTE_API_AUTHORIZATION}', 'X-Tenant': 'acme' },
      });
      expect(config.access).toEqual([]);
      expect(result.stderr).toContain(
        'warning: server "postgres" had a password inside a connection string in its args (postgresql://admin:***@db.internal:5432/prod)',
      );
    });

    it('writes a file that passes `config check` once the variables are set, and names the missing ones otherwise', async () => {
      const out = path.join(tempDir(), 'gatehouse.yaml');
      const written = await cli(['import-mcp-config', source, '--out', out]);
      expect(written.code, written.stderr).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect((await cli(['import-mcp-config', source, '--out', out])).code).toBe(1);

      const env = { ...process.env, GITHUB_GITHUB_PERSONAL_ACCESS_TOKEN: 'x', POSTGRES_ARG2_PASSWORD: 'y', REMOTE_API_AUTHORIZATION: 'Bearer z' };
      const ok = await cli(['config', 'check', '--config', out], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('configuration valid: 3 servers');

      const missing = await cli(['config', 'check', '--config', out]);
      expect(missing.code, missing.stderr).toBe(1);
      expect(missing.stderr).toContain(
        "servers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN: references ${GITHUB_GITHUB_PERSONAL_ACCESS_TOKEN}, which is not set in the gateway's environment",
      );
      expect(missing.stderr).toContain('servers.postgres.args[2]: references ${POSTGRES_ARG2_PASSWORD}');
    });
  });

  describe('`start` refuses to run', () => {
    async function startWith(yaml: string, extra: string[] = []) {
      const dir = tempDir();
      const file = path.join(dir, 'gatehouse.yaml');
      writeFileSync(file, yaml);
      const dataDir = path.join(dir, 'data');
      const result = await cli(['start', '--config', file, '--data-dir', dataDir, ...extra]);
      return { result, dataDir };
    }

    it('with a bad config: exits non-zero naming the key path and the problem, and creates nothing', async () => {
      const { result, dataDir } = await startWith('servers:\n  echo: { command: "" }\naccess:\n  - allow: { users: [alice], servers: [echo] }\n');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('invalid configuration');
      expect(result.stderr).toContain('servers.echo.command: Too small: expected string to have >=1 characters');
      expect(result.stdout).toBe('');
      expect(existsSync(dataDir)).toBe(false);

      const access = await startWith(`servers:\n  echo: { command: node }\naccess:\n  - allow: { users: [alice], servers: [ehco] }\n`);
      expect(access.result.code, access.result.stderr).toBe(1);
      expect(access.result.stderr).toContain('access[0].allow.servers[0]: unknown server "ehco"');

      const typo = await startWith('servers:\n  echo: { comand: node }\n');
      expect(typo.result.code, typo.result.stderr).toBe(1);
      expect(typo.result.stderr).toContain('servers.echo.comand: unknown key');

      const yamlError = await startWith('servers:\n  echo: { command: node\n');
      expect(yamlError.result.code, yamlError.result.stderr).toBe(1);
      expect(yamlError.result.stderr).toMatch(/invalid configuration in .*gatehouse\.yaml:\n {2}line \d+:/);
    });

    it('with a ${VAR} that is not set: exits 1 naming the key', async () => {
      const { result } = await startWith('servers:\n  echo: { command: node, env: { KEY: "${GATEHOUSE_E2E_UNSET_VAR}" } }\n');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain("servers.echo.env.KEY: references ${GATEHOUSE_E2E_UNSET_VAR}, which is not set in the gateway's environment");
    });

    it('when its port is taken: exits 1 with a clear message and leaves no child process behind', async () => {
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const port = (blocker.address() as { port: number }).port;
        const yaml = `listen: { host: 127.0.0.1, port: ${port} }\npublicUrl: http://127.0.0.1:${port}\nservers:\n  echo: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(ECHO_SERVER)}] }\n`;
        const { result } = await startWith(yaml);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toContain(`gatehouse start: cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE)`);
        const started = result.stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; pid?: number })
          .find((l) => l.msg === 'upstream ready');
        expect(started?.pid).toBeGreaterThan(0);
        expect(isAlive(started?.pid as number)).toBe(false);
      } finally {
        blocker.close();
      }
    });
  });
});
