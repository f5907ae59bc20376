import { RpcCode } from './codes.js';
import { GatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';

/** Seconds a client is told to wait before retrying while the store is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * A store Gatehouse depends on for every request (PostgreSQL, Redis counters) cannot be
 * reached. The request is refused and nothing ran; the client should retry after
 * `Retry-After`. Never an authentication error: a client told `invalid_token` throws away a
 * good token and starts a sign-in, although nothing is wrong with it.
 */
export class StoreUnavailableError extends GatehouseError {
  readonly retryAfterSeconds = STORE_RETRY_AFTER_SECONDS;
  constructor(options: GatehouseErrorOptions = {}) {
    super('store.unavailable', 'Gatehouse cannot reach its store right now, so the request was refused. Retry shortly.', 503, RpcCode.StoreUnavailable, {
      ...options,
      data: { retryAfterMs: STORE_RETRY_AFTER_SECONDS * 1000, ...options.data },
    });
  }
}

/** Socket-level failures: the peer is down, restarting or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/**
 * PostgreSQL SQLSTATEs that say "the server is not serving right now": class 08 (connection
 * exception), 57P01-57P03 (shutting down, crashed, starting up), 53300 (too many connections).
 */
const PG_UNAVAILABLE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/**
 * Messages node-postgres and ioredis use for a connection that went away or could not be made
 * (they carry no code). Compared whole or by prefix, never as a pattern over untrusted text.
 */
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Reached the max retries per request limit',
  'The client is closed',
  'Socket closed unexpectedly',
];

/** Wrappers that only say "a write or open failed": their cause decides. */
const TRANSPARENT_CODES: ReadonlySet<string> = new Set(['audit.unavailable', 'storage.unavailable']);

function isUnreachable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown; name?: unknown };
  if (error instanceof StoreUnavailableError) return true;
  // The PostgreSQL storage's own "cannot open" error.
  if (error instanceof GatehouseError && error.code === 'storage.unavailable') return true;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_UNAVAILABLE.test(e.code))) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => (e.message as string).startsWith(m))) return true;
  // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isUnreachable)) return true;
  return false;
}

/**
 * The StoreUnavailableError to answer with when `error`, or anything in its `cause` chain, is
 * a store that cannot be reached; undefined for every other error (those keep their meaning).
 */
export function storeUnavailableFrom(error: unknown): StoreUnavailableError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof StoreUnavailableError) return current;
    // An error Gatehouse raised on purpose keeps its own meaning (e.g. "the call ran but its
    // outcome is unrecorded" must not turn into "nothing happened, retry"); only the generic
    // "could not write or open" wrappers are looked through.
    if (current instanceof GatehouseError && !TRANSPARENT_CODES.has(current.code)) return undefined;
    if (isUnreachable(current)) return new StoreUnavailableError({ cause: error, detail: { error: String((current as Error).message ?? current) } });
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
