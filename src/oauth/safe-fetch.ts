import { readFileSync } from 'node:fs';
import { createGuardedFetch, EgressGuard, isIpLiteralHost, type EgressBlockedEvent, type Resolver } from '../egress/index.js';

/**
 * What `oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses` opens (tests that serve
 * documents on this machine): loopback and the private ranges. Never the cloud metadata
 * addresses, link-local, or anything else the egress guard refuses outright.
 */
export const PRIVATE_FOR_TESTS = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

export interface SafeFetchOptions {
  /** Allow loopback and private addresses (tests only: `dangerouslyAllowPrivateAddresses`). */
  allowPrivate: boolean;
  /** PEM file of extra trusted CAs. */
  caFile?: string | undefined;
  timeoutMs?: number;
  /** Largest response for a URL (the client metadata document's own limit is smaller than a jwks_uri's). */
  maxBytes(url: string): number;
  resolve?: Resolver | undefined;
  onBlocked?: ((event: EgressBlockedEvent) => void) | undefined;
}

/**
 * The fetch for URLs chosen by clients (Client ID Metadata Documents, a client's jwks_uri):
 * the egress guard decides every address after DNS and the connection goes to exactly the
 * checked address; redirects are refused; time and size are bounded while streaming.
 */
export function safeFetch(options: SafeFetchOptions): typeof globalThis.fetch {
  const extraCa = options.caFile ? readFileSync(options.caFile, 'utf8') : undefined;
  const guard = new EgressGuard({
    purpose: 'client metadata',
    allowAddresses: options.allowPrivate ? PRIVATE_FOR_TESTS : [],
    resolve: options.resolve,
    onBlocked: options.onBlocked,
  });
  const fetches = new Map<number, typeof globalThis.fetch>();
  const fetchFor = (max: number) => {
    let fetch = fetches.get(max);
    if (!fetch) {
      fetch = createGuardedFetch({ guard, maxResponseBytes: max, timeoutMs: options.timeoutMs ?? 2500, extraCa }).fetch;
      fetches.set(max, fetch);
    }
    return fetch;
  };
  return ((input: string | URL | Request, init?: RequestInit) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetchFor(options.maxBytes(href))(input, init);
  }) as typeof globalThis.fetch;
}

/**
 * Why a client id URL is refused before anything is fetched, or undefined. Its host must be a
 * DNS name: an IP literal in any spelling (`https://[::ffff:127.0.0.1]/`, `https://2130706433/`)
 * names no one a user could recognise on a consent page and exists only to reach addresses
 * by number; `localhost` and `*.localhost` are this machine (RFC 6761 §6.3).
 */
export function clientIdUrlProblem(id: string, options: { allowPrivate: boolean }): string | undefined {
  const url = URL.parse(id);
  if (url?.protocol !== 'https:') return 'client_id must be an https URL';
  if (options.allowPrivate) return undefined;
  if (isIpLiteralHost(url)) return 'client_id must name its host by a DNS name, not an IP address';
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'client_id must not name this machine (localhost)';
  return undefined;
}
