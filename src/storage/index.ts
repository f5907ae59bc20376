export type * from './ports/index.js';
export { SqliteStorage, SqliteDatabase, DATABASE_FILE } from './sqlite/index.js';
export { MemoryOAuthStore } from './memory/oauth-store.js';
export { ChangeFeed } from './change-feed.js';
import type { Storage } from './ports/index.js';
import { SqliteStorage } from './sqlite/index.js';

/** Opens the configured storage. SQLite in the data dir is the embedded default. */
export function openStorage(dataDir: string, options: { asyncAuditSync?: boolean; auditSync?: 'fsync' | 'os' } = {}): Storage {
  return SqliteStorage.open(dataDir, options);
}
