import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { STARTER_POLICIES } from '../../../test/helpers/policy-fixtures.js';
import { main } from '../main.js';

const EXAMPLES = path.dirname(STARTER_POLICIES);

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {} });
  return { code, stdout: out, stderr: err };
}

function workspace(): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-polcli-'));
  cpSync(STARTER_POLICIES, path.join(dir, 'policies'), { recursive: true });
  const config = path.join(dir, 'gatehouse.yaml');
  writeFileSync(
    config,
    `servers:\n  echo: { command: node, args: [echo.mjs], tools: { delete_everything: { annotations: { destructiveHint: true } } } }\npolicies: ./policies\n`,
  );
  return { dir, config };
}

describe('gatehouse policy test', () => {
  it('passes the starter policy table (exit 0)', async () => {
    const result = await run(['policy', 'test', path.join(EXAMPLES, 'policy-tests.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/26 passed, 0 failed \(\d+ policies from /);
    expect(result.code).toBe(0);
  });

  it('exits 1 and names the mismatch', async () => {
    const { dir } = workspace();
    const file = path.join(dir, 'tests.yaml');
    writeFileSync(
      file,
      'policies: ./policies\ncases:\n  - { name: wrong on purpose, user: bob, tool: echo__add, expect: allow }\n  - { user: alice, groups: [eng], tool: echo__add, expect: allow }\n',
    );
    const result = await run(['policy', 'test', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL  wrong on purpose');
    expect(result.stdout).toContain('expected allow, got deny — got deny not_allowed [default-deny]');
    expect(result.stdout).toContain('1 passed, 1 failed');
    const json = JSON.parse((await run(['policy', 'test', file, '--json'])).stdout) as { ok: boolean; failed: number };
    expect(json).toMatchObject({ ok: false, failed: 1 });
  });

  it('exits 2 on a malformed test file, 1 on broken policies', async () => {
    const { dir } = workspace();
    const file = path.join(dir, 'tests.yaml');
    writeFileSync(file, 'policies: ./policies\ncases:\n  - { user: bob, tool: add, expect: maybe }\n');
    const bad = await run(['policy', 'test', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cases[0].expect');
    writeFileSync(file, 'policies: ./policies\ncases:\n  - { user: bob, tool: echo__add, expect: deny }\n');
    writeFileSync(path.join(dir, 'policies', '99-broken.cedar'), 'permit(principal, action);');
    const broken = await run(['policy', 'test', file]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/99-broken\.cedar:1:\d+/);
  });
});

describe('gatehouse policy explain (offline)', () => {
  it('explains an allow: decision, deciding policy with its file and line, the request', async () => {
    const { config } = workspace();
    const result = await run([
      'policy',
      'explain',
      '--config',
      config,
      '--user',
      'alice',
      '--groups',
      'eng',
      '--tool',
      'echo__add',
      '--args',
      '{"a":1,"b":2}',
      '--offline',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^decision: allow\n/);
    expect(result.stdout).toContain('policy:   eng-call-echo (20-echo-server.cedar:3)');
    expect(result.stdout).toContain('principal: User::"alice" in Group::"eng"');
    expect(result.stdout).toContain('resource:  Tool::"echo__add" in Server::"echo"');
  });

  it('explains a deny with its reason, and a require_approval (destructive from config)', async () => {
    const { config } = workspace();
    const denied = await run(['policy', 'explain', '--config', config, '--user', 'bob', '--tool', 'echo__add', '--args', '{}', '--offline']);
    expect(denied.stdout).toMatch(
      /^decision: deny\nreason: {3}not_allowed\nmessage: {2}You are not allowed to call the tool "echo__add"\.\npolicy: {3}default-deny \(no policy permits this request\)/,
    );
    const held = await run([
      'policy',
      'explain',
      '--config',
      config,
      '--user',
      'alice',
      '--groups',
      'eng',
      '--tool',
      'echo__delete_everything',
      '--offline',
      '--json',
    ]);
    expect(JSON.parse(held.stdout)).toMatchObject({ decision: 'require_approval', level: 'four-eyes', reason: 'approval_required', policy: 'eng-call-echo' });
  });

  it('judges path arguments as the gateway does: normalised first, refused when they climb above the root', async () => {
    const { config } = workspace();
    const traversal = await run([
      'policy',
      'explain',
      '--config',
      config,
      '--user',
      'alice',
      '--groups',
      'eng',
      '--tool',
      'echo__read_file',
      '--args',
      '{"path":"/srv/public/../../etc/passwd"}',
      '--offline',
      '--json',
    ]);
    expect(JSON.parse(traversal.stdout)).toMatchObject({ decision: 'deny', reason: 'path_not_allowed', policy: 'public-files-only' });
    const escaped = await run([
      'policy',
      'explain',
      '--config',
      config,
      '--user',
      'alice',
      '--groups',
      'eng',
      '--tool',
      'echo__read_file',
      '--args',
      '{"path":"/../etc/passwd"}',
      '--offline',
    ]);
    expect(escaped.stdout).toMatch(/^decision: deny\nreason: {3}invalid_path\n/);
    const fine = await run([
      'policy',
      'explain',
      '--config',
      config,
      '--user',
      'alice',
      '--groups',
      'eng',
      '--tool',
      'echo__read_file',
      '--args',
      '{"path":"/srv/public//a/./b.txt"}',
      '--offline',
    ]);
    expect(fine.stdout).toMatch(/^decision: allow\n/);
    expect(fine.stdout).toContain('"path":"/srv/public/a/b.txt"');
  });

  it('refuses usage errors with exit 2', async () => {
    const { config } = workspace();
    expect((await run(['policy', 'explain', '--config', config, '--user', 'a', '--tool', 'add'])).code).toBe(2);
    expect((await run(['policy', 'explain', '--config', config, '--user', 'a', '--tool', 'echo__add', '--args', '{nope'])).code).toBe(2);
    expect((await run(['policy', 'explain', '--user', 'a', '--tool', 'echo__add'])).code).toBe(2);
  });
});

describe('gatehouse policy check', () => {
  it('validates a folder: exit 0, or 1 listing every problem with file:line', async () => {
    const { dir } = workspace();
    expect(await run(['policy', 'check', path.join(dir, 'policies')])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/\d+ policies in 5 files from .*: valid/),
    });
    writeFileSync(path.join(dir, 'policies', '60-typo.cedar'), 'permit(principal, action, resource is Tool) when { resource.destrutive };');
    const result = await run(['policy', 'check', path.join(dir, 'policies')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/60-typo\.cedar:1:\d+: .*destrutive/);
    expect(readFileSync(path.join(dir, 'policies', '60-typo.cedar'), 'utf8')).toContain('destrutive');
  });
});
