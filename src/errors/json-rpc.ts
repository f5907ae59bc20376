import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log/index.js';
import { RpcCode } from './codes.js';
import { isGatehouseError } from './gatehouse-error.js';
import { storeUnavailableFrom } from './store-unavailable.js';

/**
 * What the SDK turns into a JSON-RPC error object: numeric `code`, `message` and `data` taken
 * as they are (McpError would prefix the message with "MCP error <code>:").
 */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * Errors reach the client as JSON-RPC errors with the safe message and the stable Gatehouse
 * code in `data.code`; details stay in the log.
 */
export function toRpcError(error: unknown, log: Logger, requestId: string): Error {
  if (error instanceof McpError || error instanceof JsonRpcError) return error;
  // An unreachable store, wherever it surfaced (a counter, the audit log, a lookup): one code.
  const unavailable = storeUnavailableFrom(error);
  if (unavailable) {
    log.warn({ requestId, code: unavailable.code, detail: unavailable.detail }, unavailable.message);
    return new JsonRpcError(unavailable.rpcCode, unavailable.message, { code: unavailable.code, ...unavailable.data });
  }
  if (isGatehouseError(error)) {
    if (error.detail) log.warn({ requestId, code: error.code, detail: error.detail }, error.message);
    return new JsonRpcError(error.rpcCode, error.message, { code: error.code, ...error.data });
  }
  if ((error as Error)?.name === 'AbortError') return new JsonRpcError(RpcCode.RequestTimeout, 'Request cancelled', { code: 'request.cancelled' });
  log.error({ requestId, err: error }, 'unexpected error handling request');
  return new JsonRpcError(ErrorCode.InternalError, 'Internal error', { code: 'internal', requestId });
}

/** The client's own error to a request relayed to it, passed on as it is (the SDK would add its "MCP error <code>: " prefix a second time). */
export function relayedClientError(error: unknown, method: string): JsonRpcError {
  if (error instanceof McpError)
    return new JsonRpcError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data as Record<string, unknown> | undefined);
  return new JsonRpcError(ErrorCode.InternalError, `The client did not answer ${method}.`);
}
