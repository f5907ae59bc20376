/**
 * The storage section of the configuration, as the storage room reads it. Declared here, not
 * imported from the config room, so storage depends on nothing above it; the config room's
 * validated `storage` value is of this shape (its schema is src/config/storage-schema.ts).
 */
export interface StoragePostgresSettings {
  /** `${VAR}`, `file:PATH`, or a postgres:// URL without a password. */
  url: string;
  ssl?: 'disable' | 'require' | 'verify-full' | undefined;
  sslRootCert?: string | undefined;
  poolSize: number;
}

export interface StorageSettings {
  postgres?: StoragePostgresSettings | undefined;
}
