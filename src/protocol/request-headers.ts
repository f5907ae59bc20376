import { ModernRpcCode } from './revision.js';

/** A refusal of a modern request's HTTP metadata: always 400 (streamable-http §server-validation). */
export interface HeaderProblem {
  status: 400;
  code: number;
  message: string;
  gatehouseCode: string;
  data?: Record<string, unknown>;
}

/** Methods whose target is mirrored in `Mcp-Name` (streamable-http §standard-request-headers). */
const NAMED: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** Header values are bounded before they are decoded or compared. */
const MAX_HEADER_VALUE = 8192;
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const VISIBLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Decodes an `Mcp-Name`/`Mcp-Param-*` value (streamable-http §value-encoding): a plain
 * visible-ASCII value as is, or `=?base64?…?=` holding UTF-8. Undefined when malformed.
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (value.length > MAX_HEADER_VALUE || !VISIBLE_ASCII.test(value)) return undefined;
  if (!value.startsWith(SENTINEL_PREFIX)) return value;
  if (!value.endsWith(SENTINEL_SUFFIX) || value.length < SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length) return undefined;
  const encoded = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // A value that does not round-trip was not valid UTF-8: refuse rather than guess.
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

const mismatch = (message: string): HeaderProblem => ({ status: 400, code: ModernRpcCode.HeaderMismatch, message, gatehouseCode: 'mcp.header_mismatch' });

/**
 * Checks the HTTP metadata of a modern request against its body (streamable-http
 * §request-metadata): `MCP-Protocol-Version` present and equal to `_meta`'s version, `Mcp-Method`
 * equal to `method`, `Mcp-Name` equal to the target of named methods. Intermediaries route on
 * these headers, so a request whose headers say something other than its body is refused.
 */
export function checkRequestHeaders(header: (name: string) => string | undefined, message: unknown, version: unknown): HeaderProblem | undefined {
  const protocolVersion = header('mcp-protocol-version');
  if (protocolVersion === undefined) return mismatch('Header mismatch: MCP-Protocol-Version header is required');
  if (typeof version !== 'string') return mismatch('Header mismatch: _meta protocol version is missing');
  if (protocolVersion !== version) return mismatch('Header mismatch: MCP-Protocol-Version header does not match the body');
  const method = (message as { method?: unknown }).method;
  if (typeof method !== 'string') return undefined;
  // The headers are required on requests; a notification need not carry them, but one it
  // carries must still agree with its body.
  const request = (message as { id?: unknown }).id !== undefined;
  const methodHeader = header('mcp-method');
  if (methodHeader === undefined && request) return mismatch('Header mismatch: Mcp-Method header is required');
  if (methodHeader !== undefined && methodHeader !== method) return mismatch('Header mismatch: Mcp-Method header does not match the body');
  const field = NAMED[method];
  const nameHeader = header('mcp-name');
  // A name the body does not have is a contradiction an intermediary could route on.
  if (!field) return nameHeader === undefined ? undefined : mismatch(`Header mismatch: Mcp-Name header is not part of ${method}`);
  const target = (message as { params?: Record<string, unknown> }).params?.[field];
  if (nameHeader === undefined && !request) return undefined;
  if (nameHeader === undefined) return mismatch('Header mismatch: Mcp-Name header is required');
  const decoded = decodeHeaderValue(nameHeader);
  if (decoded === undefined) return mismatch('Header mismatch: Mcp-Name header value is malformed');
  if (typeof target !== 'string' || decoded !== target) return mismatch('Header mismatch: Mcp-Name header does not match the body');
  return undefined;
}
