import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { VaultError } from './errors.js';
import { KEK_BYTES, LocalKeyProvider } from './key-provider.js';

export const MASTER_KEY_ENV = 'GATEHOUSE_MASTER_KEY';
export const MASTER_KEY_FILE_ENV = 'GATEHOUSE_MASTER_KEY_FILE';

export interface MasterKeySettings {
  env: NodeJS.ProcessEnv;
  /** The data dir: the key must live outside it, so a copy of the data dir is not a copy of the key. */
  dataDir: string;
  /** `vault.keyFile` from config, already absolute. */
  keyFile?: string | undefined;
}

export interface MasterKeyLocation {
  kind: 'env' | 'file';
  /** The file the key is (or would be) read from, for kind 'file'. */
  path: string | undefined;
  /** Human-readable origin for messages. */
  source: string;
}

export interface LoadedMasterKey {
  provider: LocalKeyProvider;
  location: MasterKeyLocation;
  /** True when this call generated a new key file. */
  created: boolean;
}

/** `$XDG_CONFIG_HOME/gatehouse/master.key`, else `~/.config/gatehouse/master.key`. */
export function defaultKeyFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'gatehouse', 'master.key');
}

/** Where the master key comes from, by precedence: env value, env file path, config, default file. */
export function masterKeyLocation(settings: MasterKeySettings): MasterKeyLocation {
  if (settings.env[MASTER_KEY_ENV]) return { kind: 'env', path: undefined, source: `environment variable ${MASTER_KEY_ENV}` };
  const file = settings.env[MASTER_KEY_FILE_ENV]
    ? path.resolve(settings.env[MASTER_KEY_FILE_ENV] as string)
    : settings.keyFile
      ? path.resolve(settings.keyFile)
      : defaultKeyFile(settings.env);
  return { kind: 'file', path: file, source: `key file ${file}` };
}

function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new VaultError('vault.key_invalid', `the master key from ${source} is not base64 (expected ${KEK_BYTES} random bytes, base64-encoded)`);
  }
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== KEK_BYTES) {
    throw new VaultError(
      'vault.key_invalid',
      `the master key from ${source} decodes to ${bytes.length} bytes; it must be exactly ${KEK_BYTES} (generate one with: openssl rand -base64 32)`,
    );
  }
  return bytes;
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function insideDir(file: string, dir: string): boolean {
  const f = realOrResolved(path.dirname(file));
  const d = realOrResolved(dir);
  const rel = path.relative(d, f);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Loads the key-encryption key. With `create`, a missing key file is generated (32 random
 * bytes, base64, mode 0600 in a 0700 folder) — the CLI passes it only when the vault holds no
 * entries yet, so an existing vault is never silently paired with a new key.
 */
export function loadMasterKey(settings: MasterKeySettings, options: { create?: boolean } = {}): LoadedMasterKey {
  const location = masterKeyLocation(settings);
  if (location.kind === 'env') {
    const key = decodeKey(settings.env[MASTER_KEY_ENV] as string, location.source);
    return { provider: new LocalKeyProvider(key, location.source), location, created: false };
  }
  const file = location.path as string;
  if (insideDir(file, settings.dataDir)) {
    throw new VaultError(
      'vault.key_in_data_dir',
      `the master key file ${file} is inside the data dir ${settings.dataDir}; keep it elsewhere, so a copy or backup of the data dir is not also a copy of the key`,
    );
  }
  if (!existsSync(file)) {
    if (!options.create) {
      throw new VaultError(
        'vault.key_missing',
        `no master key: ${MASTER_KEY_ENV} is not set and ${file} does not exist. Set ${MASTER_KEY_ENV} (32 random bytes, base64) or ${MASTER_KEY_FILE_ENV}, or restore the key file from your backup.`,
      );
    }
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEK_BYTES);
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { provider: new LocalKeyProvider(key, location.source), location, created: true };
  }
  const stat = statSync(file);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new VaultError(
      'vault.key_permissions',
      `the master key file ${file} is accessible to other users (mode ${(stat.mode & 0o777).toString(8)}); make it readable by its owner only: chmod 600 ${file}`,
    );
  }
  const key = decodeKey(readFileSync(file, 'utf8'), location.source);
  return { provider: new LocalKeyProvider(key, location.source), location, created: false };
}

/**
 * A copy of `env` for the gateway to read the master key from, with the key removed from `env`
 * itself: called by the process entry point on `process.env`, so nothing the gateway spawns can
 * inherit the key even if it passed the process environment along.
 */
export function withdrawMasterKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete env[MASTER_KEY_ENV];
  return copy;
}
