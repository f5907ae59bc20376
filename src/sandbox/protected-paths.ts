import path from 'node:path';
import { realPath } from './paths.js';

/** What the gateway keeps from every sandboxed upstream, whatever else is granted. */
export interface ProtectedPaths {
  /**
   * Never visible, even inside a granted folder: the data dir (vault, audit log, sessions),
   * the master key file and the configuration file. A grant inside one is a config error.
   */
  strict: string[];
  /**
   * Hidden unless a grant or the server's own program lies at or below them: the folder of the
   * configuration file, the folder of the master key file and the gateway user's home.
   */
  soft: string[];
}

export interface GatewayPaths {
  dataDir: string;
  /**
   * Every master key file the gateway might use: the one in force and the default location
   * (a key in the environment today does not make yesterday's key file harmless).
   */
  keyFiles: readonly string[];
  configPath: string | undefined;
  home: string | undefined;
}

/** Folders too broad to hide without hiding the system itself. */
const SYSTEM_FOLDERS = new Set(['/', '/etc', '/usr', '/opt', '/var', '/srv', '/home', '/tmp', '/run']);

export function protectedPaths(gateway: GatewayPaths): ProtectedPaths {
  const strict = new Set<string>();
  const soft = new Set<string>();
  // Both the path as configured and its real location: a mount at either would expose it.
  const add = (set: Set<string>, p: string | undefined) => {
    if (!p) return;
    const absolute = path.resolve(p);
    set.add(absolute);
    const real = realPath(absolute);
    if (real) set.add(real);
  };
  add(strict, gateway.dataDir);
  for (const file of gateway.keyFiles) add(strict, file);
  add(strict, gateway.configPath);
  for (const file of [gateway.configPath, ...gateway.keyFiles]) {
    if (!file) continue;
    const folder = path.dirname(path.resolve(file));
    if (!SYSTEM_FOLDERS.has(folder)) add(soft, folder);
  }
  if (gateway.home && !SYSTEM_FOLDERS.has(path.resolve(gateway.home))) add(soft, gateway.home);
  return { strict: [...strict], soft: [...soft].filter((p) => !strict.has(p)) };
}
