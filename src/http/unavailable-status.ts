import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { STORE_RETRY_AFTER_SECONDS } from '../errors/index.js';

/** Gatehouse codes that mean "nothing ran, a store the gateway needs is down: retry later". */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['store.unavailable', 'audit.unavailable']);

/**
 * The HTTP status and headers for a JSON body of responses. A lone JSON-RPC error saying a
 * store is unavailable is answered 503 with `Retry-After` (RFC 9110 §15.6.4), so clients,
 * balancers and retry middleware see a transient server condition rather than a 200; anything
 * else (results, other errors, batches with mixed outcomes) stays 200 as the transport spec has it.
 */
export function responseStatus(messages: readonly JSONRPCMessage[], batch: boolean): { status: number; headers: Record<string, string> } {
  if (batch || messages.length !== 1) return { status: 200, headers: {} };
  const error = (messages[0] as { error?: { data?: { code?: unknown } } }).error;
  const code = error?.data?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return { status: 503, headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) } };
  return { status: 200, headers: {} };
}
