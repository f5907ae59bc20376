/**
 * MCP 2026-07-28, the stateless revision: no `initialize`, no session. Each request carries its
 * protocol version, client capabilities and client information in `_meta` (basic §_meta,
 * versioning §protocol-version-negotiation).
 */
export const MODERN_VERSION = '2026-07-28';
/** Revisions served statelessly, newest first. */
export const MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

/** Reserved `_meta` keys of the modern revisions. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
} as const;

/** The prefix every protocol-reserved `_meta` key of the modern revisions starts with. */
export const RESERVED_META_PREFIX = 'io.modelcontextprotocol/';

/** JSON-RPC error codes the modern revision defines (schema: HeaderMismatchError, UnsupportedProtocolVersionError). */
export const ModernRpcCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** The `_meta` of a JSON-RPC request or notification, when it is an object. */
export function metaOf(message: unknown): Record<string, unknown> | undefined {
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
}

/** The protocol version a modern request names in its `_meta`, if any. */
export function requestedVersion(message: unknown): unknown {
  return metaOf(message)?.[META.protocolVersion];
}

/**
 * Is this request of the modern era? It is when it says so: a protocol version in `_meta`, a
 * `server/discover`, or a modern `MCP-Protocol-Version` header (versioning §backward-compatibility:
 * a dual-era server selects its behaviour from how the client opens). Everything else is the
 * 2025 handshake.
 */
export function isModernRequest(message: unknown, headerVersion: string | undefined, legacyVersions: readonly string[]): boolean {
  if (requestedVersion(message) !== undefined) return true;
  if ((message as { method?: unknown }).method === 'server/discover') return true;
  return headerVersion !== undefined && !legacyVersions.includes(headerVersion) && headerVersion !== '';
}

/** A copy of the request without the protocol's own `_meta` keys: they describe this hop, not the upstream's. */
export function withoutReservedMeta<T>(message: T): T {
  const meta = metaOf(message);
  if (!meta) return message;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) if (!key.startsWith(RESERVED_META_PREFIX)) kept[key] = value;
  const params = (message as { params: Record<string, unknown> }).params;
  const { _meta: _dropped, ...rest } = params;
  return { ...message, params: Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest };
}
