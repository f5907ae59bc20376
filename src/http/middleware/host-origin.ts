import type { MiddlewareHandler } from 'hono';
import { jsonRpcErrorResponse } from '../json-rpc-error.js';

export interface HostOriginOptions {
  /** Exact `host[:port]` values accepted in the Host header. */
  allowedHosts: readonly string[];
  /** Exact origins accepted in the Origin header (requests without Origin are not from browsers). */
  allowedOrigins: readonly string[];
}

/**
 * DNS-rebinding and cross-site protection (MCP transports spec: servers MUST validate Origin).
 * The Host must be exactly one this gateway is published under, and a browser Origin must be
 * on the allow-list — a page on another loopback port is refused like any other site.
 */
export function hostOriginCheck(options: HostOriginOptions): MiddlewareHandler {
  const hosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase()));
  return async (c, next) => {
    const host = c.req.header('host')?.toLowerCase();
    if (!host || !hosts.has(host)) return jsonRpcErrorResponse(403, -32000, 'Forbidden: invalid Host header', {}, { code: 'http.invalid_host' });
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      return jsonRpcErrorResponse(403, -32000, 'Forbidden: invalid Origin header', {}, { code: 'http.invalid_origin' });
    }
    await next();
  };
}
