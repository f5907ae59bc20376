import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { EgressRefusedError } from '../errors/index.js';
import { loadUndici } from '../util/undici.js';
import type { EgressGuard } from './egress-guard.js';
import { parseIpAddress } from './ip-address.js';
import { limitResponse } from './limit-response.js';
import { pinnedLookup } from './pinned-lookup.js';

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

export interface GuardedFetchOptions {
  guard: EgressGuard;
  /** Largest response body accepted; counted while streaming. */
  maxResponseBytes: number;
  /** Time for the whole exchange, headers and body (default 10 s). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** PEM certificates trusted in addition to the system roots. */
  extraCa?: string | undefined;
}

export interface GuardedFetch {
  fetch: typeof globalThis.fetch;
  close(): Promise<void>;
}

/**
 * A fetch that connects only where the guard allows:
 * - the URL is parsed by the WHATWG parser and an IP-literal host is checked on its bytes;
 * - a name is resolved once, every address is checked, and the socket connects to exactly
 *   those addresses (pinned lookup: no second resolution to rebind);
 * - the connected socket's peer address is checked again before any byte is sent;
 * - redirects are never followed (a 3xx is refused: the next hop was not checked);
 * - the response body is bounded while streaming, and time is bounded.
 * A caller's `dispatcher` or `redirect` option is ignored.
 */
export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const { guard } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let agent: Promise<Agent> | undefined;

  const connector = async (): Promise<buildConnector.connector> => {
    const undici = await loadUndici();
    const base = undici.buildConnector({
      lookup: pinnedLookup(guard) as never,
      timeout: options.connectTimeoutMs ?? Math.min(timeoutMs, 5000),
      ...(options.extraCa ? { ca: [...rootCertificates, options.extraCa] } : {}),
    });
    return (connectOptions, callback) => {
      // A literal host never goes through the lookup: check it before connecting.
      const literal = parseIpAddress(connectOptions.hostname);
      if (literal) {
        const verdict = guard.check(literal);
        if (!verdict.allowed) return callback(guard.refuse(connectOptions.hostname, verdict), null);
      }
      base(connectOptions, (error, socket) => {
        if (error) return callback(error, null);
        // Whatever resolved or connected, the peer decides: never talk to a refused address.
        const peer = parseIpAddress((socket as Socket).remoteAddress ?? '');
        const verdict = peer ? guard.check(peer) : undefined;
        if (!verdict?.allowed) {
          (socket as Socket).destroy();
          const refusal =
            verdict && !verdict.allowed
              ? guard.refuse(connectOptions.hostname, verdict)
              : guard.report(
                  new EgressRefusedError('egress.address_refused', `refusing to talk to ${connectOptions.hostname}: the peer address is unknown`),
                  connectOptions.hostname,
                );
          return callback(refusal, null);
        }
        return callback(null, socket as Socket);
      });
    };
  };

  const guardedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const undici = await loadUndici();
    const url = URL.parse(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!url) throw new EgressRefusedError('egress.invalid_url', 'refusing to fetch: not a URL');
    guard.assertUrl(url);
    agent ??= connector().then(
      (connect) => new undici.Agent({ connect, connections: 8, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 10_000 }),
    );
    const dispatcher = await agent;
    const { dispatcher: _dispatcher, redirect: _redirect, signal, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    const deadline = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = (await undici.fetch(url, {
        ...(rest as object),
        redirect: 'manual',
        dispatcher,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      } as never)) as unknown as Response;
    } catch (error) {
      // undici wraps connect errors in "fetch failed": surface a refusal as itself.
      let cause: unknown = error;
      for (let depth = 0; cause && depth < 4; depth++) {
        if (cause instanceof EgressRefusedError) throw cause;
        cause = (cause as { cause?: unknown }).cause;
      }
      throw error;
    }
    if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
      await response.body?.cancel().catch(() => undefined);
      throw guard.report(
        new EgressRefusedError('egress.redirect_refused', `refusing to follow a redirect from ${url.origin} (status ${response.status})`),
        url.host,
      );
    }
    const limited: { status: number; statusText: string; headers: Headers; body: ReadableStream<Uint8Array> | null } = await limitResponse(
      response,
      options.maxResponseBytes,
      (e) => guard.report(e, url.host),
    );
    // Callers (oauth4webapi, oidc-provider) check `instanceof Response` against the global one.
    if (limited instanceof Response) return limited;
    return new Response(NULL_BODY_STATUSES.has(limited.status) ? null : limited.body, {
      status: limited.status,
      statusText: limited.statusText,
      headers: limited.headers,
    });
  };

  return { fetch: guardedFetch as typeof globalThis.fetch, close: async () => (await agent)?.close() };
}
