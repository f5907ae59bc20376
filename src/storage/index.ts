export type * from './ports/index.js';
export { SqliteStorage, SqliteDatabase, DATABASE_FILE } from './sqlite/index.js';
export { PostgresStorage } from './postgres/index.js';
export { auditIndexedFields } from './postgres/audit-indexed-fields.js';
export { MemoryOAuthStore } from './memory/oauth-store.js';
export { ChangeFeed } from './change-feed.js';
export { openStorage, type OpenStorageOptions, type StorageConfigSource } from './open-storage.js';
export type { StorageSettings, StoragePostgresSettings } from './storage-settings.js';
