import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export interface TokenProxy {
  /** The proxy's MCP endpoint (same path as the target's). */
  url: string;
  /** Requests forwarded so far (method, path, whether the client had sent its own Authorization). */
  seen: { method: string; path: string; clientAuthorization: boolean }[];
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of one gateway that adds `Authorization: Bearer <token>` to every
 * request, for clients that cannot sign in themselves (the conformance suite sends none).
 *
 * It is transparent otherwise: bodies and streamed responses pass through untouched, and the
 * Host and Origin headers are rewritten only when they name the proxy itself, so a request
 * that names another host (a DNS-rebinding probe) reaches the gateway exactly as sent and the
 * gateway's own check answers it.
 */
export async function startTokenProxy(targetMcpUrl: string, token: string): Promise<TokenProxy> {
  const target = new URL(targetMcpUrl);
  const seen: TokenProxy['seen'] = [];
  let own = '';
  const server: Server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    seen.push({ method: req.method ?? '', path: req.url ?? '', clientAuthorization: req.headers.authorization !== undefined });
    if (headers.host === own) headers.host = target.host;
    if (headers.origin === `http://${own}`) headers.origin = target.origin;
    headers.authorization = `Bearer ${token}`;
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`token proxy: ${error.message}`);
    });
    // A client that goes away (closing its SSE stream) closes the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  own = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${own}${target.pathname}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
