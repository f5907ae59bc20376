import { homedir } from 'node:os';
import path from 'node:path';
import { isStdioServer, type LoadedConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { defaultKeyFile, masterKeyLocation } from '../vault/index.js';
import { decideSandbox, type SandboxDecision } from './decide-sandbox.js';
import { detectBubblewrap, type BubblewrapProbe } from './detect-bubblewrap.js';
import { protectedPaths, type ProtectedPaths } from './protected-paths.js';

/** What a stdio upstream needs to spawn inside (or, when off, outside) its sandbox. */
export interface UpstreamSandbox {
  decision: SandboxDecision;
  protect: ProtectedPaths;
  home: string | undefined;
  /** network: egress — the gateway's CONNECT proxy for this server, started with the connectors. */
  egress?: { socket: string; forwarder: string; node: string } | undefined;
}

/**
 * Decides the sandbox of every stdio server at start: one bubblewrap trial for all, then per
 * server on/off and why. Config errors (missing grants, `required` without bubblewrap) throw
 * before anything is spawned; every server left unconfined gets a warning in the log.
 */
export async function planSandboxes(config: LoadedConfig, env: NodeJS.ProcessEnv, log: Logger, probe?: BubblewrapProbe): Promise<Map<string, UpstreamSandbox>> {
  const stdio = Object.entries(config.servers).filter(([, s]) => isStdioServer(s)) as [string, Extract<LoadedConfig['servers'][string], { command: string }>][];
  const plans = new Map<string, UpstreamSandbox>();
  if (stdio.length === 0) return plans;
  const home = env.HOME || homedir();
  const configuredKey = config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined;
  const key = masterKeyLocation({ env, dataDir: config.dataDir, keyFile: configuredKey });
  const keyFiles = [key.path, configuredKey, defaultKeyFile(env)].filter((p): p is string => p !== undefined);
  const protect = protectedPaths({ dataDir: config.dataDir, keyFiles, configPath: config.configPath, home });
  const needsProbe = stdio.some(([, s]) => s.sandbox.mode !== 'dangerously-off');
  const bubblewrap = probe ?? (needsProbe ? await detectBubblewrap({ searchPath: env.PATH }) : undefined);
  for (const [name, server] of stdio) {
    const decision = decideSandbox(name, server.sandbox, bubblewrap, config.baseDir, protect);
    plans.set(name, { decision, protect, home });
    if (!decision.on) {
      log.warn(
        { server: name, sandbox: 'off' },
        `SANDBOX OFF for upstream "${name}" (${decision.reason}): it can read the gateway's data dir, master key and memory`,
      );
    } else if (decision.network === 'egress') {
      log.info({ server: name, network: 'egress' }, `upstream "${name}" reaches the network only through the gateway's egress proxy`);
    } else if (decision.network === 'host') {
      log.warn(
        { server: name, network: 'host' },
        `upstream "${name}" shares the gateway's network (sandbox.network: host): it can reach loopback services, the gateway's included`,
      );
    }
  }
  return plans;
}

/** The `sandbox` field of `gatehouse status`: on/off and why, per stdio server. */
export function sandboxStatus(decision: SandboxDecision): { on: boolean; mode: string; network: string; reason: string } {
  return { on: decision.on, mode: decision.mode, network: decision.network, reason: decision.reason };
}
