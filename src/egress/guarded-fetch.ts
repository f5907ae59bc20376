import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { EgressRefusedError } from '../errors/index.js';
import { loadUndici } from './load-undici.js';
import type { EgressGuard } from './egress-guard.js';
import { HostAllowList } from './host-allow-list.js';
import { parseIpAddress } from './ip-address.js';
import { limitResponse } from './limit-response.js';
import { pinnedLookup } from './pinned-lookup.js';

const NULL_BODY_STATUSES = new Set([204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials whoever set them; never sent to another origin. */
const ALWAYS_CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

export interface GuardedFetchOptions {
  guard: EgressGuard;
  /** Largest response body accepted; counted while streaming (Infinity: the caller bounds it). */
  maxResponseBytes: number;
  /**
   * Time for the whole exchange, headers and body (default 10 s). 0: no overall deadline (a
   * long-lived event stream); headersTimeoutMs and bodyTimeoutMs still bound silence.
   */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest wait for response headers (default: timeoutMs). */
  headersTimeoutMs?: number;
  /** Longest silence while the body streams (default: timeoutMs). */
  bodyTimeoutMs?: number;
  /** PEM certificates trusted in addition to the system roots. */
  extraCa?: string | undefined;
  /**
   * Redirects to follow, each hop re-checked by the guard (scheme, host allow-list, address)
   * exactly like the first request. Absent: a redirect is refused. Credentials (Authorization,
   * Cookie, Proxy-Authorization and `credentialHeaders`) are dropped on any change of origin,
   * and an https → http hop is refused.
   */
  redirects?: { max: number; credentialHeaders?: readonly string[] | undefined } | undefined;
  /**
   * Hosts (exact or `*.suffix`) whose TLS certificate is NOT verified. Only for test
   * environments with self-signed certificates; the configuration warns at start-up.
   */
  dangerouslyAllowInsecureTls?: readonly string[] | undefined;
  /** Keep-alive pool size per origin (default 8). */
  connections?: number;
}

/** One exchange: the final response and the URL that produced it (after followed redirects). */
export interface GuardedExchange {
  response: Response;
  url: URL;
  redirects: number;
}

export interface GuardedFetch {
  fetch: typeof globalThis.fetch;
  /** Like fetch, and says where the answer came from (for audit records). */
  exchange(input: string | URL, init?: RequestInit, extra?: { credentialHeaders?: readonly string[] }): Promise<GuardedExchange>;
  close(): Promise<void>;
}

/**
 * A fetch that connects only where the guard allows:
 * - the URL is parsed by the WHATWG parser and an IP-literal host is checked on its bytes;
 * - a name is checked against the host allow-list, resolved once, every address is checked,
 *   and the socket connects to exactly those addresses (pinned lookup: no second resolution
 *   to rebind);
 * - the connected socket's peer address is checked again before any byte is sent;
 * - redirects are refused, or followed with every hop re-checked (see `redirects`);
 * - the response body is bounded while streaming, and time is bounded.
 * A caller's `dispatcher` or `redirect` option is ignored.
 */
export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const { guard } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const insecure = options.dangerouslyAllowInsecureTls?.length ? new HostAllowList(options.dangerouslyAllowInsecureTls) : undefined;
  let agent: Promise<Agent> | undefined;

  const connector = async (): Promise<buildConnector.connector> => {
    const undici = await loadUndici();
    const settings = {
      lookup: pinnedLookup(guard) as never,
      timeout: options.connectTimeoutMs ?? Math.min(timeoutMs || 10_000, 5000),
      ...(options.extraCa ? { ca: [...rootCertificates, options.extraCa] } : {}),
    };
    const verified = undici.buildConnector(settings);
    const unverified = insecure ? undici.buildConnector({ ...settings, rejectUnauthorized: false }) : undefined;
    return (connectOptions, callback) => {
      // A literal host never goes through the lookup: check it before connecting.
      const literal = parseIpAddress(connectOptions.hostname);
      if (literal) {
        const verdict = guard.check(literal);
        if (!verdict.allowed) return callback(guard.refuse(connectOptions.hostname, verdict), null);
      }
      const base = unverified && insecure?.has(connectOptions.hostname) ? unverified : verified;
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

  const send = async (url: URL, init: RequestInit, signal: AbortSignal): Promise<Response> => {
    const undici = await loadUndici();
    guard.assertUrl(url);
    agent ??= connector().then(
      (connect) =>
        new undici.Agent({
          connect,
          connections: options.connections ?? 8,
          headersTimeout: options.headersTimeoutMs ?? (timeoutMs || 30_000),
          bodyTimeout: options.bodyTimeoutMs ?? (timeoutMs || 30_000),
          keepAliveTimeout: 10_000,
        }),
    );
    const dispatcher = await agent;
    try {
      return (await undici.fetch(url, { ...(init as object), redirect: 'manual', dispatcher, signal } as never)) as unknown as Response;
    } catch (error) {
      // undici wraps connect errors in "fetch failed": surface a refusal as itself.
      let cause: unknown = error;
      for (let depth = 0; cause && depth < 4; depth++) {
        if (cause instanceof EgressRefusedError) throw cause;
        cause = (cause as { cause?: unknown }).cause;
      }
      throw error;
    }
  };

  const exchange = async (input: string | URL | Request, init?: RequestInit, extra?: { credentialHeaders?: readonly string[] }): Promise<GuardedExchange> => {
    let url = URL.parse(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!url) throw new EgressRefusedError('egress.invalid_url', 'refusing to fetch: not a URL');
    const {
      dispatcher: _dispatcher,
      redirect: _redirect,
      signal: callerSignal,
      headers: initHeaders,
      ...rest
    } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [callerSignal, deadline].filter((s): s is AbortSignal => s !== undefined && s !== null);
    const signal = signals.length === 1 ? (signals[0] as AbortSignal) : AbortSignal.any(signals);
    let request: RequestInit = { ...rest, headers: new Headers(initHeaders) };
    const maxRedirects = options.redirects?.max ?? 0;
    let response = await send(url, request, signal);
    let redirects = 0;
    while (REDIRECT_STATUSES.has(response.status) && response.headers.has('location')) {
      await response.body?.cancel().catch(() => undefined);
      const from = url;
      if (redirects >= maxRedirects) {
        throw guard.report(
          new EgressRefusedError(
            'egress.redirect_refused',
            maxRedirects === 0
              ? `refusing to follow a redirect from ${from.origin} (status ${response.status})`
              : `refusing to follow more than ${maxRedirects} redirects (last from ${from.origin})`,
          ),
          from.host,
        );
      }
      const next = URL.parse(response.headers.get('location') ?? '', from);
      if (!next)
        throw guard.report(
          new EgressRefusedError('egress.redirect_refused', `refusing a redirect from ${from.origin} to something that is not a URL`),
          from.host,
        );
      if (from.protocol === 'https:' && next.protocol !== 'https:')
        throw guard.report(new EgressRefusedError('egress.redirect_refused', `refusing a redirect from ${from.origin} to plain ${next.protocol}`), next.host);
      request = nextHop(request, response.status, from, next, [...(options.redirects?.credentialHeaders ?? []), ...(extra?.credentialHeaders ?? [])]);
      url = next;
      redirects++;
      response = await send(url, request, signal);
    }
    const host = url.host;
    const limited: { status: number; statusText: string; headers: Headers; body: ReadableStream<Uint8Array> | null } = Number.isFinite(options.maxResponseBytes)
      ? await limitResponse(response, options.maxResponseBytes, (e) => guard.report(e, host))
      : response;
    // Callers (oauth4webapi, oidc-provider) check `instanceof Response` against the global one.
    if (limited instanceof Response) return { response: limited, url, redirects };
    return {
      response: new Response(NULL_BODY_STATUSES.has(limited.status) ? null : limited.body, {
        status: limited.status,
        statusText: limited.statusText,
        headers: limited.headers,
      }),
      url,
      redirects,
    };
  };

  return {
    fetch: (async (input: string | URL | Request, init?: RequestInit) => (await exchange(input, init)).response) as typeof globalThis.fetch,
    exchange,
    close: async () => (await agent)?.close(),
  };
}

/**
 * The request for the next hop (RFC 9110 §15.4): 303, and 301/302 after a POST, become a GET
 * without a body; 307/308 repeat method and body (a stream body cannot be repeated: refused).
 * Another origin gets no credentials.
 */
function nextHop(request: RequestInit, status: number, from: URL, to: URL, credentialHeaders: readonly string[]): RequestInit {
  const headers = new Headers(request.headers);
  const method = (request.method ?? 'GET').toUpperCase();
  let next: RequestInit = { ...request, headers };
  if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
    next = { ...next, method: 'GET', body: null };
    for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
  } else if (request.body instanceof ReadableStream) {
    throw new EgressRefusedError('egress.redirect_refused', `refusing to repeat a streamed request body to ${to.origin}`);
  }
  if (from.origin !== to.origin) {
    for (const name of [...ALWAYS_CREDENTIAL_HEADERS, ...credentialHeaders]) headers.delete(name);
  }
  return next;
}
