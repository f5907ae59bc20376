import { GatehouseError, RpcCode } from '../../errors/index.js';

/**
 * The PostgreSQL storage cannot be opened (unreachable, authentication refused, a migration
 * failed). The message names where (host, port, database; never the password) and why.
 */
export class StorageUnavailableError extends GatehouseError {
  constructor(message: string, options: { cause?: unknown; detail?: Record<string, unknown> } = {}) {
    super('storage.unavailable', message, 503, RpcCode.InternalError, options);
  }
}

/** host:port/database of a pool config, for messages: never the user's password. */
export function describeTarget(config: {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  database?: string | undefined;
}): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString);
      const host = url.searchParams.get('host') ?? url.hostname;
      return `${host || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
    } catch {
      return '(unparsable URL)';
    }
  }
  return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
}
