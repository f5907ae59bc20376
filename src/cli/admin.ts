import { userInfo } from 'node:os';
import { AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { RuntimeKeys } from '../gateway.js';
import { silentLogger } from '../log/index.js';
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

export async function withAdmin<T>(config: LoadedConfig, fn: (admin: AdminContext) => Promise<T>): Promise<T> {
  const storage = await openStorage(config);
  try {
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 300_000,
    });
    const published = Number(await storage.settings.get(RuntimeKeys.maxTtlMs));
    const maxTokenTtlMs = Math.max(Number.isFinite(published) ? published : 0, config.tokens.maxTtl);
    try {
      return await fn({ storage, audit, actor: `os:${osUser()}`, maxTokenTtlMs });
    } finally {
      await audit.close();
    }
  } finally {
    await storage.close();
  }
}

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
