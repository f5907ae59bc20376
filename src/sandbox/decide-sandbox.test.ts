import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxSchema } from '../config/schema.js';
import { ConfigError } from '../errors/index.js';
import { decideSandbox } from './decide-sandbox.js';
import { protectedPaths } from './protected-paths.js';

const root = mkdtempSync(path.join(tmpdir(), 'gh-decide-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, 'data/vault'), { recursive: true });
mkdirSync(path.join(root, 'files'));
const protect = protectedPaths({ dataDir: path.join(root, 'data'), keyFiles: [], configPath: path.join(root, 'gatehouse.yaml'), home: undefined });
const usable = { usable: true as const, path: '/usr/bin/bwrap', version: '0.8.0' };
const missing = { usable: false as const, reason: 'bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap' };
const settings = (input: unknown) => SandboxSchema.parse(input);

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('decideSandbox', () => {
  it('defaults: on where bubblewrap works, no network, nothing granted', () => {
    const decision = decideSandbox('fs', settings({}), usable, root, protect);
    expect(decision).toEqual({
      on: true,
      mode: 'auto',
      network: 'none',
      reason: 'bubblewrap 0.8.0; no network',
      bwrap: '/usr/bin/bwrap',
      readable: [],
      writable: [],
    });
  });

  it('auto without bubblewrap: off, and the reason says why and how to fix it', () => {
    const decision = decideSandbox('fs', settings({}), missing, root, protect);
    expect(decision).toMatchObject({ on: false, mode: 'auto' });
    expect(decision.reason).toBe('unavailable: bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap');
  });

  it('required without bubblewrap: a config error naming the key', () => {
    const error = configError(() => decideSandbox('fs', settings({ mode: 'required' }), missing, root, protect));
    expect(error.code).toBe('config.invalid');
    expect(error.issues).toEqual([{ path: 'servers.fs.sandbox.mode', message: `required, but ${missing.reason}` }]);
    expect(error.message).toContain('servers.fs.sandbox.mode is "required" but bubblewrap (bwrap) is not installed');
  });

  it('a granted path that does not exist: a config error per missing grant, resolved against the config folder', () => {
    const error = configError(() => decideSandbox('fs', settings({ readable: ['files', 'nope'], writable: ['/no/such/dir'] }), usable, root, protect));
    expect(error.code).toBe('config.invalid');
    expect(error.issues).toEqual([
      { path: 'servers.fs.sandbox.readable[1]', message: `${path.join(root, 'nope')} does not exist; create it or remove the grant` },
      { path: 'servers.fs.sandbox.writable[0]', message: '/no/such/dir does not exist; create it or remove the grant' },
    ]);
  });

  it('is checked even when bubblewrap is missing (the config is wrong on every machine)', () => {
    expect(() => decideSandbox('fs', settings({ writable: ['nope'] }), missing, root, protect)).toThrow(/does not exist/);
  });

  it('a grant of (or inside) the data dir is refused: an upstream never sees it', () => {
    for (const grant of ['data', 'data/vault', `${root}/data/../data`]) {
      const error = configError(() => decideSandbox('fs', settings({ writable: [grant] }), usable, root, protect));
      expect(error.issues[0]?.path).toBe('servers.fs.sandbox.writable[0]');
      expect(error.issues[0]?.message).toContain('which the gateway keeps from every upstream');
    }
  });

  it('grants resolve symlinks, so a link into the data dir is refused too', () => {
    symlinkSync(path.join(root, 'data'), path.join(root, 'innocent'));
    const error = configError(() => decideSandbox('fs', settings({ readable: ['innocent'] }), usable, root, protect));
    expect(error.issues[0]?.message).toContain(path.join(root, 'data'));
  });

  it('dangerously-off: off whatever the machine offers, and says so', () => {
    const decision = decideSandbox('fs', settings({ mode: 'dangerously-off' }), usable, root, protect);
    expect(decision).toEqual({ on: false, mode: 'dangerously-off', network: 'none', reason: expect.stringContaining('dangerously-off') });
  });

  it('network: egress needs the sandbox: dangerously-off, or auto without bubblewrap, is a config error naming the key', () => {
    const off = configError(() => decideSandbox('fs', settings({ mode: 'dangerously-off', network: 'egress' }), usable, root, protect));
    expect(off.issues).toEqual([{ path: 'servers.fs.sandbox.network', message: 'egress needs the sandbox' }]);
    const missingBwrap = configError(() => decideSandbox('fs', settings({ network: 'egress' }), missing, root, protect));
    expect(missingBwrap.issues).toEqual([{ path: 'servers.fs.sandbox.network', message: `egress needs the sandbox, but ${missing.reason}` }]);
  });
  it('network: egress is on and says the proxy is the only way out', () => {
    expect(decideSandbox('fs', settings({ network: 'egress' }), usable, root, protect)).toMatchObject({
      on: true,
      network: 'egress',
      reason: "bubblewrap 0.8.0; network only through the gateway's egress proxy",
    });
  });
  it('network: host is on, and the reason says the network is shared', () => {
    expect(decideSandbox('fs', settings({ network: 'host' }), usable, root, protect).reason).toContain('network: host');
  });

  it('the schema refuses unknown modes and keys (a typo never turns the sandbox off)', () => {
    expect(SandboxSchema.safeParse({ mode: 'off' }).success).toBe(false);
    expect(SandboxSchema.safeParse({ network: 'proxy' }).success).toBe(false);
    expect(SandboxSchema.safeParse({ writeable: ['/tmp'] }).success).toBe(false);
  });
});
