import { homedir } from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../config/index.js';
import { defaultKeyFile, masterKeyLocation } from '../vault/index.js';
import { protectedPaths, type ProtectedPaths } from './protected-paths.js';

/** What every sandboxed process is kept from (data dir, master key files, config file) and the gateway user's home. */
export function gatewayProtectedPaths(config: LoadedConfig, env: NodeJS.ProcessEnv): { protect: ProtectedPaths; home: string } {
  const home = env.HOME || homedir();
  const configuredKey = config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined;
  const key = masterKeyLocation({ env, dataDir: config.dataDir, keyFile: configuredKey });
  const keyFiles = [key.path, configuredKey, defaultKeyFile(env)].filter((p): p is string => p !== undefined);
  return { protect: protectedPaths({ dataDir: config.dataDir, keyFiles, configPath: config.configPath, home }), home };
}
