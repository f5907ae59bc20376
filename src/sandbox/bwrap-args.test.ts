import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { bwrapArgs, NAMESPACE_FLAGS, type SandboxLayout } from './bwrap-args.js';
import { protectedPaths } from './protected-paths.js';

const root = mkdtempSync(path.join(tmpdir(), 'gh-bwrap-args-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
for (const dir of ['data', 'home/.config/gatehouse', 'shared/out', 'app']) mkdirSync(path.join(root, dir), { recursive: true });
writeFileSync(path.join(root, 'gatehouse.yaml'), 'servers: {}\n');
writeFileSync(path.join(root, 'home/.config/gatehouse/master.key'), 'k\n');

const protect = protectedPaths({
  dataDir: path.join(root, 'data'),
  keyFiles: [path.join(root, 'home/.config/gatehouse/master.key')],
  configPath: path.join(root, 'gatehouse.yaml'),
  home: path.join(root, 'home'),
});

function layout(overrides: Partial<SandboxLayout> = {}): SandboxLayout {
  return { network: 'none', cwd: root, cwdGranted: false, program: [], readable: [], writable: [], protect, ...overrides };
}

/** The mount operations in order, as [flag, destination]. */
function mounts(argv: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--ro-bind' || flag === '--bind' || flag === '--symlink') out.push([flag, argv[(i += 2)] as string]);
    else if (flag === '--tmpfs' || flag === '--dir' || flag === '--dev' || flag === '--proc') out.push([flag, argv[++i] as string]);
  }
  return out;
}

describe('bwrapArgs', () => {
  it('gives every upstream its own namespaces, no capabilities and death with the gateway', () => {
    const argv = bwrapArgs(layout());
    expect(argv.slice(0, NAMESPACE_FLAGS.length)).toEqual([...NAMESPACE_FLAGS]);
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--new-session', '--disable-userns'])
      expect(argv).toContain(flag);
    expect(argv.join(' ')).toContain('--cap-drop ALL');
    expect(argv).toContain('--unshare-net');
    expect(mounts(argv)).toEqual(
      expect.arrayContaining([
        ['--dev', '/dev'],
        ['--proc', '/proc'],
        ['--tmpfs', '/tmp'],
      ]),
    );
    expect(argv.slice(-2)).toEqual(['--chdir', root]);
  });

  it('shares the network only for network: host', () => {
    expect(bwrapArgs(layout({ network: 'host' }))).not.toContain('--unshare-net');
    // egress is no network too: the proxy socket is the only way out (bound by wrapCommand).
    expect(bwrapArgs(layout({ network: 'egress' }))).toContain('--unshare-net');
  });

  it('binds /usr read-only and only named parts of /etc, never all of /etc or $HOME', () => {
    const m = mounts(bwrapArgs(layout()));
    expect(m).toContainEqual(['--ro-bind', '/usr']);
    expect(m).toContainEqual(['--ro-bind', '/etc/ld.so.cache']);
    expect(m.some(([, at]) => at === '/etc' || at === '/' || at === '/root' || at === '/home')).toBe(false);
    expect(m.some(([, at]) => at === '/etc/shadow' || at.startsWith('/etc/ssh'))).toBe(false);
    expect(m.some(([flag, at]) => flag !== '--tmpfs' && at === path.join(root, 'home'))).toBe(false);
  });

  it('does not bind the default cwd (the config folder) and still starts the process there', () => {
    const m = mounts(bwrapArgs(layout()));
    expect(m.filter(([flag]) => flag === '--ro-bind' || flag === '--bind').some(([, at]) => at === root)).toBe(false);
    expect(m).toContainEqual(['--dir', root]);
  });

  it('a grant of the whole folder still hides the data dir, the key file and the config file, applied last', () => {
    const argv = bwrapArgs(layout({ readable: [root] }));
    const m = mounts(argv);
    const at = (flag: string, p: string) => m.findIndex(([f, d]) => f === flag && d === p);
    const grant = at('--ro-bind', root);
    expect(grant).toBeGreaterThan(-1);
    expect(at('--tmpfs', path.join(root, 'data'))).toBeGreaterThan(grant);
    expect(at('--tmpfs', path.join(root, 'home'))).toBeGreaterThan(grant);
    expect(at('--ro-bind', path.join(root, 'gatehouse.yaml'))).toBeGreaterThan(grant);
    expect(argv.join(' ')).toContain(`--ro-bind /dev/null ${path.join(root, 'gatehouse.yaml')}`);
    // The key file is under the masked home: masking it again would only create its name there.
    expect(m.some(([, d]) => d.startsWith(path.join(root, 'home', '.config')))).toBe(false);
  });

  it('a writable grant inside the config folder punches through its mask; a deeper read-only grant stays read-only', () => {
    const out = path.join(root, 'shared/out');
    const m = mounts(bwrapArgs(layout({ readable: [path.join(root, 'shared')], writable: [out] })));
    expect(m).toContainEqual(['--bind', out]);
    expect(m).toContainEqual(['--ro-bind', path.join(root, 'shared')]);
    expect(m.findIndex(([, d]) => d === out)).toBeGreaterThan(m.findIndex(([, d]) => d === path.join(root, 'shared')));
  });

  it('writable wins over readable for the same path, whatever the order in the config', () => {
    const m = mounts(bwrapArgs(layout({ readable: [path.join(root, 'app')], writable: [path.join(root, 'app')] })));
    const binds = m.filter(([, d]) => d === path.join(root, 'app'));
    expect(binds.at(-1)).toEqual(['--bind', path.join(root, 'app')]);
  });

  it('a configured cwd inside the config folder is bound read-only; one inside the data dir never is', () => {
    const app = path.join(root, 'app');
    expect(mounts(bwrapArgs(layout({ cwd: app, cwdGranted: true })))).toContainEqual(['--ro-bind', app]);
    const inData = path.join(root, 'data');
    const m = mounts(bwrapArgs(layout({ cwd: inData, cwdGranted: true })));
    expect(m.some(([flag, d]) => flag === '--ro-bind' && d === inData)).toBe(false);
  });

  it('program files inside the data dir are not bound (a command there is not trusted to expose it)', () => {
    const m = mounts(bwrapArgs(layout({ program: [path.join(root, 'data')] })));
    expect(m.some(([flag, d]) => flag === '--ro-bind' && d === path.join(root, 'data'))).toBe(false);
  });
});
