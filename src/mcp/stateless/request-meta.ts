import { LoggingLevelSchema, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { META, metaOf } from '../../protocol/revision.js';

/** A modern request whose `_meta` lacks what every request of the revision must carry. */
export interface MetaProblem {
  status: 400;
  code: -32602;
  message: string;
  gatehouseCode: 'mcp.invalid_request_meta';
}

const invalid = (message: string): MetaProblem => ({ status: 400, code: -32602, message, gatehouseCode: 'mcp.invalid_request_meta' });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every request of the stateless revision carries, in `_meta`, the protocol version it speaks and
 * the capabilities of its client (basic §request-metadata; client info is only a SHOULD). A
 * request without them is malformed: `-32602 Invalid params` on HTTP 400, before anything runs.
 */
export function checkRequestMeta(message: unknown): MetaProblem | undefined {
  if ((message as { method?: unknown }).method === undefined || (message as { id?: unknown }).id === undefined) return undefined;
  const meta = metaOf(message);
  if (meta === undefined) return invalid('Invalid params: _meta is required in this protocol version');
  if (typeof meta[META.protocolVersion] !== 'string') return invalid(`Invalid params: _meta["${META.protocolVersion}"] is required`);
  if (!isObject(meta[META.clientCapabilities])) return invalid(`Invalid params: _meta["${META.clientCapabilities}"] must be an object`);
  return undefined;
}

/**
 * The log level a modern request asked for (`_meta["io.modelcontextprotocol/logLevel"]`), or
 * undefined: then no log messages are sent for it at all (the revision replaced
 * `logging/setLevel` with this per-request opt-in). An unknown level counts as not asking.
 */
export function requestLogLevel(message: unknown): LoggingLevel | undefined {
  const parsed = LoggingLevelSchema.safeParse(metaOf(message)?.[META.logLevel]);
  return parsed.success ? parsed.data : undefined;
}
