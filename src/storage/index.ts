export type * from './ports/index.js';
export { SqliteStorage, SqliteDatabase, DATABASE_FILE } from './sqlite/index.js';
// PostgreSQL storage is not re-exported: `openStorage` loads it (and the pg driver) only when
// `storage.postgres` is configured. Import it from './postgres/index.js'.
export { MemoryOAuthStore } from './memory/oauth-store.js';
export { ChangeFeed } from './change-feed.js';
export { openStorage, type OpenStorageOptions, type StorageConfigSource } from './open-storage.js';
export type { StorageSettings, StoragePostgresSettings } from './storage-settings.js';
