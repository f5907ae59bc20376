import type { LoadedConfig } from './index.js';
import type { Logger } from '../log/index.js';

/** Start-up warnings for egress switches that weaken the guard (one line per server). */
export function warnInsecureEgress(config: LoadedConfig, log: Logger): string[] {
  const warnings: string[] = [];
  for (const [name, server] of Object.entries(config.servers)) {
    const hosts = 'egress' in server ? server.egress.dangerouslyAllowInsecureTls : [];
    if (hosts.length === 0) continue;
    const message = `servers.${name}.egress.dangerouslyAllowInsecureTls is set: TLS certificates of ${hosts.join(', ')} are NOT verified; anyone on the path can read and change the traffic, credentials included. Use only in tests.`;
    log.warn({ server: name, hosts }, message);
    warnings.push(message);
  }
  return warnings;
}
