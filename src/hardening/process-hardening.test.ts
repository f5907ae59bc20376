import { afterEach, describe, expect, it } from 'vitest';
import { type AddonLoad, type HardeningAddon, NODUMP_PRELOAD_PATH } from './addon.js';
import { sandboxPreloadArgs, withChildHardening } from './child-env.js';
import { describeHardening } from './describe.js';
import { takeFromEnvironment } from './master-key-env.js';
import { hardenProcess, readCoreLimit } from './process-hardening.js';

/** A stand-in addon: these tests must not make the test runner itself non-dumpable. */
function fakeAddon(overrides: Partial<HardeningAddon> = {}): () => AddonLoad {
  const addon: HardeningAddon = {
    setDumpable: () => 0,
    getDumpable: () => 0,
    disableCoreDumps: () => undefined,
    getCoreLimit: () => ({ soft: 0, hard: 0 }),
    scrubInitialEnvironment: () => 1,
    ...overrides,
  };
  return () => ({ ok: true, addon, path: '/fake/hardening.node' });
}
const missing = (): AddonLoad => ({ ok: false, reason: 'native addon not built (/x/hardening.node is missing)' });

describe('hardenProcess and hardeningStatus', () => {
  it('without the addon: off, with the reason, dumpable unknown; children untouched', () => {
    const status = hardenProcess(missing);
    expect(status).toMatchObject({ enabled: false, addon: false, dumpable: null, children: { coreLimit: 'inherited', dumpable: false } });
    expect(status.reason).toBe('native addon not built (/x/hardening.node is missing)');
    expect(describeHardening(status)).toMatch(
      /^ {2}hardening: OFF \(native addon not built \(\/x\/hardening\.node is missing\); dumpable unknown, core limit /,
    );
    expect(withChildHardening('/usr/bin/node', { A: '1' })).toEqual({ A: '1' });
    expect(sandboxPreloadArgs({})).toEqual([]);
  });

  it('reports what is, not what was attempted: a failing setrlimit leaves it off with both reasons', () => {
    const status = hardenProcess(
      fakeAddon({
        disableCoreDumps: () => {
          throw new Error('setrlimit(RLIMIT_CORE): Operation not permitted');
        },
        getDumpable: () => 1,
      }),
    );
    expect(status.enabled).toBe(false);
    expect(status.addon).toBe(true);
    expect(status.dumpable).toBe(true);
    expect(status.reason).toContain('setrlimit(RLIMIT_CORE): Operation not permitted');
    expect(status.reason).toContain('the process is dumpable');
    expect(describeHardening(status)).toContain('hardening: OFF (setrlimit(RLIMIT_CORE): Operation not permitted; the process is dumpable');
  });

  it('unknown when the gateway did not report it', () => {
    expect(describeHardening(undefined)).toBe('  hardening: unknown (the gateway did not report it)');
  });
});

describe('readCoreLimit', () => {
  it('reads soft and hard from /proc/<pid>/limits text; unlimited is null', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax core file size        0                    unlimited            bytes     \n';
    expect(readCoreLimit(text)).toEqual({ soft: 0, hard: null });
    expect(readCoreLimit('Max core file size        1024                 2048                 bytes\n')).toEqual({ soft: 1024, hard: 2048 });
    expect(readCoreLimit('nothing here')).toBeNull();
    expect(readCoreLimit()).not.toBeNull();
  });
});

describe('withChildHardening', () => {
  afterEach(() => void hardenProcess(missing));

  it('adds the preload library in front of any LD_PRELOAD the child was configured with', () => {
    hardenProcess(fakeAddon());
    expect(withChildHardening('/usr/bin/node', { PATH: '/bin' })).toEqual({ PATH: '/bin', LD_PRELOAD: NODUMP_PRELOAD_PATH });
    expect(withChildHardening('node', { LD_PRELOAD: '/opt/x.so' }).LD_PRELOAD).toBe(`${NODUMP_PRELOAD_PATH}:/opt/x.so`);
  });

  it('leaves bubblewrap itself alone (it must write its own uid_map); the sandbox gets the preload inside', () => {
    hardenProcess(fakeAddon());
    const env = { PATH: '/bin' };
    expect(withChildHardening('/usr/bin/bwrap', env)).toBe(env);
    expect(sandboxPreloadArgs(env)).toEqual(['--ro-bind', NODUMP_PRELOAD_PATH, NODUMP_PRELOAD_PATH, '--setenv', 'LD_PRELOAD', NODUMP_PRELOAD_PATH]);
  });
});

describe('takeFromEnvironment', () => {
  afterEach(() => {
    delete process.env.GH_TEST_SECRET;
    hardenProcess(missing);
  });

  it('removes the variable from process.env, scrubs the initial copy, and hands back a snapshot that holds it', () => {
    process.env.GH_TEST_SECRET = 'k-canary';
    const scrubbed: string[] = [];
    hardenProcess(fakeAddon({ scrubInitialEnvironment: (name) => (scrubbed.push(name), 1) }));
    const { env, scrub } = takeFromEnvironment('GH_TEST_SECRET');
    expect(env.GH_TEST_SECRET).toBe('k-canary');
    expect(process.env.GH_TEST_SECRET).toBeUndefined();
    expect('GH_TEST_SECRET' in process.env).toBe(false);
    expect(scrubbed).toEqual(['GH_TEST_SECRET']);
    expect(scrub).toEqual({ present: true, removed: true, initialCopiesScrubbed: 1 });
  });

  it('without the addon: still removed from process.env, and says the initial copy stays', () => {
    process.env.GH_TEST_SECRET = 'k-canary';
    hardenProcess(missing);
    const { scrub } = takeFromEnvironment('GH_TEST_SECRET');
    expect(process.env.GH_TEST_SECRET).toBeUndefined();
    expect(scrub).toMatchObject({ present: true, removed: true, initialCopiesScrubbed: 0, reason: 'native addon not built (/x/hardening.node is missing)' });
  });

  it('a variable that was never set: nothing to scrub, no warning', () => {
    hardenProcess(missing);
    expect(takeFromEnvironment('GH_TEST_SECRET').scrub).toEqual({ present: false, removed: true, initialCopiesScrubbed: 0 });
  });
});
