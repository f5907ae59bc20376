import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEAP_SIZING_FLAGS, MALLOC_SETTINGS } from '../../src/util/heap-sizing.js';
import { ROOT } from '../helpers/e2e.js';
import { ensureDebianBinary } from '../helpers/debian-package.js';

const run = promisify(execFile);
const UNIT = path.join(ROOT, 'deploy/systemd/gatehouse.service');
const PROFILE = path.join(ROOT, 'deploy/apparmor/gatehouse');

/** Runs a checker; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function check(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The unit's `Key=value` settings, in order (repeated keys keep every value). */
function unitSettings(text: string): [string, string][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('[') && l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}

/**
 * The deployment files are real, checked by the tools that load them: systemd's own verifier
 * and security analysis, and AppArmor's parser. Each check has a broken twin that must fail,
 * so a checker that accepts anything would fail this file.
 */
describe('deployment files', () => {
  let systemdAnalyze: string;
  let apparmorParser: string;
  let dir: string;

  beforeAll(async () => {
    systemdAnalyze = await ensureDebianBinary('/usr/bin/systemd-analyze', 'systemd');
    apparmorParser = await ensureDebianBinary('/usr/sbin/apparmor_parser', 'apparmor');
    dir = mkdtempSync(path.join(tmpdir(), 'gh-deploy-'));
  }, 600_000);

  /**
   * The unit as shipped. systemd-analyze verify insists the ExecStart program exists: where
   * /usr/bin/node does not, the copy names the Node.js running this test instead, nothing else changed.
   */
  function unitUnderTest(text = readFileSync(UNIT, 'utf8'), name = 'gatehouse.service'): string {
    const file = path.join(dir, name);
    writeFileSync(file, existsSync('/usr/bin/node') ? text : text.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    return file;
  }

  it('systemd-analyze verify accepts the unit without a single warning; a broken twin is reported', async () => {
    const result = await check(systemdAnalyze, ['verify', unitUnderTest()]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const broken = readFileSync(UNIT, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=bogus').replace('NoNewPrivileges=yes', 'NoNewPrivilegs=yes');
    const twin = await check(systemdAnalyze, ['verify', unitUnderTest(broken, 'gatehouse-broken.service')]);
    expect(twin.stderr).toContain('Failed to parse protect system value, ignoring: bogus');
    expect(twin.stderr).toContain("Unknown key 'NoNewPrivilegs'");
  });

  it('has the hardening settings the deployment guide promises', () => {
    const settings = unitSettings(readFileSync(UNIT, 'utf8'));
    const value = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);
    expect(value('NoNewPrivileges')).toEqual(['yes']);
    expect(value('ProtectSystem')).toEqual(['strict']);
    expect(value('ProtectHome')).toEqual(['yes']);
    expect(value('PrivateTmp')).toEqual(['yes']);
    expect(value('LimitCORE')).toEqual(['0']);
    expect(value('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX']);
    expect(value('SystemCallFilter')[0]).toBe('@system-service');
    expect(value('CapabilityBoundingSet')).toEqual(['']);
    expect(value('User')).toEqual(['gatehouse']);
    // Writable: exactly the data dir the gateway is started with.
    const dataDir = /--data-dir (\S+)/.exec(value('ExecStart')[0] ?? '')?.[1];
    expect(dataDir).toBe('/var/lib/gatehouse');
    expect(value('ReadWritePaths')).toEqual([dataDir]);
    // The key comes as a credential file; never as an environment value. The only other
    // setting is the allocator's, as `gatehouse start` sets it when it restarts itself.
    expect(value('Environment')).toEqual([...Object.entries(MALLOC_SETTINGS).map(([name, v]) => `${name}=${v}`), 'GATEHOUSE_MASTER_KEY_FILE=%d/master.key']);
    // The heap flags are the ones `gatehouse start` restarts with (it cannot restart under AppArmor).
    const execStart = value('ExecStart')[0] ?? '';
    for (const flag of [
      `--min-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`,
      `--max-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`,
      `--heap-growing-percent=${HEAP_SIZING_FLAGS.heapGrowingPercent}`,
    ]) {
      expect(execStart).toContain(` ${flag} `);
    }
    expect(settings.some(([k, v]) => k === 'Environment' && v.startsWith('GATEHOUSE_MASTER_KEY='))).toBe(false);
    expect(value('MemoryDenyWriteExecute')).toEqual([]);
    expect(value('AppArmorProfile')).toEqual(['gatehouse']);
  });

  it('systemd-analyze security rates the unit OK or better (exposure below 3.0)', async () => {
    const result = await check(systemdAnalyze, ['security', '--offline=true', '--no-pager', unitUnderTest()]);
    const exposure = /Overall exposure level for gatehouse\.service: (\d+\.\d+) (\w+)/.exec(result.stdout);
    expect(exposure, result.stdout + result.stderr).not.toBeNull();
    process.stderr.write(`[deploy] systemd-analyze security: exposure ${exposure?.[1]} ${exposure?.[2]}\n`);
    expect(Number(exposure?.[1])).toBeLessThan(3);
    // Control: an unhardened unit for the same program scores far worse.
    const plain = unitUnderTest('[Service]\nExecStart=/usr/bin/node /opt/gatehouse/dist/cli/main.js start\n', 'plain.service');
    const control = /Overall exposure level for plain\.service: (\d+\.\d+)/.exec(
      (await check(systemdAnalyze, ['security', '--offline=true', '--no-pager', plain])).stdout,
    );
    expect(Number(control?.[1])).toBeGreaterThan(8);
  });

  it('apparmor_parser -Q accepts the profile; a broken twin is rejected', async () => {
    const result = await check(apparmorParser, ['-Q', '-K', PROFILE]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.replace(/^Cache read\/write disabled.*\n?/m, '')).toBe('');
    const broken = path.join(dir, 'gatehouse-broken');
    writeFileSync(broken, readFileSync(PROFILE, 'utf8').replace('@{GATEHOUSE_DATA}/** rwk,', '@{GATEHOUSE_DATA}/** rwz,'));
    const twin = await check(apparmorParser, ['-Q', '-K', broken]);
    expect(twin.code).not.toBe(0);
    expect(twin.stderr).toContain('AppArmor parser error');
  });

  it('the profile keeps upstream programs away from the data dir, config, master key and other processes', () => {
    const text = readFileSync(PROFILE, 'utf8');
    const upstream = text.slice(text.indexOf('profile upstream'), text.indexOf('profile sandbox'));
    for (const rule of ['deny @{GATEHOUSE_DATA}/** rwklmx,', 'deny @{GATEHOUSE_CONFIG}/** rwklmx,', 'deny /run/credentials/** rwklmx,', 'deny ptrace,']) {
      expect(upstream).toContain(rule);
    }
    expect(text).toContain('/{usr/,}{local/,}{bin,sbin}/* Cx -> upstream,');
  });
});
