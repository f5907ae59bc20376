import { userInfo } from 'node:os';
import { AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { RuntimeKeys } from '../gateway.js';
import { silentLogger, type Logger } from '../log/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';

/** What an administrative CLI command works with: the data dir's storage and its audit log. */
export interface AdminContext {
  storage: Storage;
  audit: AuditLog;
  /** `os:<login>`: the audit log's actor for CLI actions. */
  actor: string;
  /** Longest access-token lifetime in force (published by the gateway, else the config's). */
  maxTokenTtlMs: number;
}

/**
 * The audit log a short CLI command appends to: checkpoints as the gateway would write them,
 * closed by the caller so every record is durable before the command exits.
 */
export async function openCliAudit(storage: Storage, log: Logger = silentLogger()): Promise<AuditLog> {
  return new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), log, { checkpointEvery: 1000, checkpointIntervalMs: 300_000 });
}

/** Opens the data dir's storage for one command and closes it however the command ends. */
export async function withStorage<T>(config: LoadedConfig, fn: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openStorage(config);
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

export async function withAdmin<T>(config: LoadedConfig, fn: (admin: AdminContext) => Promise<T>): Promise<T> {
  return withStorage(config, async (storage) => {
    const audit = await openCliAudit(storage);
    const published = Number(await storage.settings.get(RuntimeKeys.maxTtlMs));
    const maxTokenTtlMs = Math.max(Number.isFinite(published) ? published : 0, config.tokens.maxTtl);
    try {
      return await fn({ storage, audit, actor: `os:${osUser()}`, maxTokenTtlMs });
    } finally {
      await audit.close();
    }
  });
}

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
