import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { loadUndici } from '../util/undici.js';

/**
 * Address ranges a server-side fetch of a client-supplied URL must never reach (SSRF): loopback,
 * private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved, and
 * their IPv6 counterparts including IPv4-mapped forms.
 */
const BLOCKED_V4: [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12],
  [0xc0000000, 24], [0xc0000200, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xc6336400, 24], [0xcb007100, 24],
  [0xe0000000, 4], [0xf0000000, 4],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

export function isPrivateAddress(ip: string): boolean {
  const version = isIP(ip);
  if (version === 4) {
    const n = v4ToInt(ip);
    return BLOCKED_V4.some(([base, bits]) => (bits === 0 ? true : n >>> (32 - bits) === base >>> (32 - bits)));
  }
  if (version !== 6) return true;
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPrivateAddress(mapped[1] as string);
  if (lower === '::' || lower === '::1') return true;
  return /^(fc|fd|fe[89ab]|ff|2001:db8|64:ff9b|100::|2002:)/.test(lower.replace(/^0+/, ''));
}

export class SsrfRefusedError extends Error {
  readonly code = 'oauth.fetch_refused';
}

export interface SafeFetchOptions {
  /** Allow loopback and private addresses (tests only: `dangerouslyAllowPrivateAddresses`). */
  allowPrivate: boolean;
  /** PEM file of extra trusted CAs. */
  caFile?: string | undefined;
  timeoutMs?: number;
}

/**
 * A fetch for URLs chosen by clients (Client ID Metadata Documents, client jwks_uri). The
 * address is checked after DNS resolution and the connection goes to exactly the checked
 * address (no second lookup to rebind), redirects are not followed, and time is bounded.
 * oidc-provider adds its own body-size limit (`fetchResponseBodyLimits`).
 */
export function safeFetch(options: SafeFetchOptions): typeof globalThis.fetch {
  const ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined;
  const lookup = (hostname: string, lookupOptions: object, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const refused = !options.allowPrivate && list.some((a) => isPrivateAddress(a.address));
      if (refused || list.length === 0) return callback(Object.assign(new SsrfRefusedError(`refusing to fetch from ${hostname}: it resolves to a private or reserved address`), { code: 'ESSRF' }), []);
      if ((lookupOptions as { all?: boolean }).all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
  let agent: Agent | undefined;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const undici = await loadUndici();
    agent ??= new undici.Agent({ connect: { lookup, ...(ca ? { ca } : {}) }, connections: 8, headersTimeout: options.timeoutMs ?? 2500, bodyTimeout: options.timeoutMs ?? 2500 });
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    // A literal IP in the URL never goes through DNS: check it here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !options.allowPrivate && isPrivateAddress(literal)) throw new SsrfRefusedError(`refusing to fetch from ${url.host}: private or reserved address`);
    const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    return (await undici.fetch(url, { ...(rest as object), redirect: 'manual', dispatcher: agent, signal: rest.signal ?? AbortSignal.timeout(options.timeoutMs ?? 2500) })) as unknown as Response;
  }) as typeof globalThis.fetch;
}
