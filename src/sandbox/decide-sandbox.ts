import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SandboxConfig } from '../config/index.js';
import { ConfigError } from '../errors/index.js';
import type { BubblewrapProbe } from './detect-bubblewrap.js';
import { isAtOrBelow, realPath } from './paths.js';
import type { ProtectedPaths } from './protected-paths.js';

/** The sandbox state of one stdio server, decided once at gateway start (and shown by `status`). */
export type SandboxDecision =
  | {
      on: true;
      mode: SandboxConfig['mode'];
      network: SandboxConfig['network'];
      reason: string;
      bwrap: string;
      /** Absolute real paths, checked to exist. */
      readable: string[];
      writable: string[];
    }
  | { on: false; mode: SandboxConfig['mode']; network: SandboxConfig['network']; reason: string };

/**
 * On or off, and why. Throws a ConfigError naming the key when the configuration cannot be met:
 * `required` without a working bubblewrap, a granted path that does not exist, or a grant that
 * would expose the gateway's data dir, master key or configuration file.
 */
export function decideSandbox(
  server: string,
  config: SandboxConfig,
  probe: BubblewrapProbe | undefined,
  baseDir: string,
  protect: ProtectedPaths,
): SandboxDecision {
  const where = `servers.${server}.sandbox`;
  const { mode, network } = config;
  if (network === 'egress' && mode === 'dangerously-off')
    throw new ConfigError(`${where}.network is "egress" but the sandbox is dangerously-off: without it the process has the whole network`, [
      { path: `${where}.network`, message: 'egress needs the sandbox' },
    ]);
  if (mode === 'dangerously-off') {
    return { on: false, mode, network, reason: 'dangerously-off in the configuration: the process sees everything the gateway user sees' };
  }
  const issues: { path: string; message: string }[] = [];
  const grants = (key: 'readable' | 'writable') =>
    config[key].map((entry, i) => {
      const absolute = path.resolve(baseDir, entry);
      const real = realPath(absolute);
      if (!real || !existsSync(real)) {
        issues.push({ path: `${where}.${key}[${i}]`, message: `${absolute} does not exist; create it or remove the grant` });
        return '';
      }
      const hit = protect.strict.find((s) => isAtOrBelow(real, s) || isAtOrBelow(absolute, s));
      if (hit) issues.push({ path: `${where}.${key}[${i}]`, message: `${absolute} is (inside) ${hit}, which the gateway keeps from every upstream` });
      return real;
    });
  const readable = grants('readable');
  const writable = grants('writable');
  if (issues.length > 0) throw new ConfigError(`${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  if (!probe?.usable) {
    const why = probe?.reason ?? 'bubblewrap was not checked';
    if (mode === 'required') {
      throw new ConfigError(`${where}.mode is "required" but ${why}`, [{ path: `${where}.mode`, message: `required, but ${why}` }]);
    }
    // Without the sandbox there is no network namespace, so nothing would make the proxy the only way out.
    if (network === 'egress') {
      throw new ConfigError(`${where}.network is "egress" but ${why}`, [{ path: `${where}.network`, message: `egress needs the sandbox, but ${why}` }]);
    }
    return { on: false, mode, network, reason: `unavailable: ${why}` };
  }
  return {
    on: true,
    mode,
    network,
    reason:
      network === 'host'
        ? `bubblewrap ${probe.version}; network: host (shares the gateway's network)`
        : network === 'egress'
          ? `bubblewrap ${probe.version}; network only through the gateway's egress proxy`
          : `bubblewrap ${probe.version}; no network`,
    bwrap: probe.path,
    readable: readable.filter(Boolean),
    writable: writable.filter(Boolean),
  };
}
