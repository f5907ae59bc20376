import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { CidrSet, parseCidr } from '../egress/cidr-set.js';
import { canonicalAddress, parseIpAddress, type IpAddress } from '../egress/ip-address.js';

/** Longest forwarding header read; anything longer is treated as malformed. */
const MAX_HEADER_LENGTH = 8 * 1024;

export interface ClientIpInput {
  /** The TCP peer's address, as the socket reports it. */
  peer: string | undefined;
  /** `Forwarded` (RFC 7239), every field line joined with ", ". */
  forwarded?: string | undefined;
  /** `X-Forwarded-For`, every field line joined with ", ". */
  xForwardedFor?: string | undefined;
}

type Hops = IpAddress[] | 'malformed';

/**
 * The client address of a request: the one place that decides it, for conditional access,
 * policy context, audit records and the authorization server.
 *
 * - The peer is the client unless it is one of `trustedProxies`; then, and only then, the
 *   forwarding headers are read.
 * - `Forwarded` (RFC 7239) and `X-Forwarded-For` are walked from the right (the entry the
 *   nearest proxy added), skipping trusted proxies; the first untrusted address is the client.
 *   If every hop is a trusted proxy, the leftmost one is.
 * - When both headers are present they must agree: a proxy maintains one of them, and the
 *   other came from the client. Disagreement gives no address (undefined), never the proxy's:
 *   conditional access then refuses, rather than seeing the proxy's trusted address.
 * - A malformed entry reached by the walk (the nearest proxy did not write a usable address)
 *   falls back to the peer. Nothing here throws.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is reported, and matched, as IPv4.
 */
export function clientIpFrom(input: ClientIpInput, trustedProxies: CidrSet): string | undefined {
  const peer = input.peer === undefined ? undefined : parseIpAddress(input.peer);
  if (!peer) return undefined;
  if (trustedProxies.size === 0 || !trustedProxies.has(peer)) return canonicalAddress(peer);
  const fromForwarded = input.forwarded === undefined ? undefined : walk(parseForwarded(input.forwarded), trustedProxies);
  const fromXff = input.xForwardedFor === undefined ? undefined : walk(parseXForwardedFor(input.xForwardedFor), trustedProxies);
  const pick = (found: IpAddress | 'malformed' | undefined) => (found === 'malformed' ? peer : found);
  if (fromForwarded !== undefined && fromXff !== undefined) {
    const a = pick(fromForwarded);
    const b = pick(fromXff);
    return a && b && canonicalAddress(a) === canonicalAddress(b) ? canonicalAddress(a) : undefined;
  }
  const found = pick(fromForwarded ?? fromXff);
  return canonicalAddress(found ?? peer);
}

/** From the right: the first hop that is not a trusted proxy, or the leftmost if all are. */
function walk(hops: Hops, trusted: CidrSet): IpAddress | 'malformed' | undefined {
  if (hops === 'malformed') return 'malformed';
  if (hops.length === 0) return undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as IpAddress | undefined;
    if (!hop) return 'malformed';
    if (!trusted.has(hop)) return hop;
  }
  return hops[0];
}

/**
 * `for=` node of each element, in order: `192.0.2.43`, `"192.0.2.43:47011"`,
 * `"[2001:db8:cafe::17]:4711"` (RFC 7239 §6). An element without `for`, an obfuscated or
 * `unknown` node, or a syntax error makes that hop unusable (undefined entry); a header whose
 * structure cannot be followed is malformed as a whole. A hand-written scanner: linear time.
 */
export function parseForwarded(header: string): IpAddress[] | 'malformed' {
  if (header.length > MAX_HEADER_LENGTH) return 'malformed';
  const hops: (IpAddress | undefined)[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  let element: { for?: string | undefined; seen: Set<string> } = { seen: new Set() };
  const endElement = () => {
    hops.push(element.for === undefined ? undefined : nodeAddress(element.for));
    element = { seen: new Set() };
  };
  skipSpace();
  if (i === n) return 'malformed';
  while (i < n) {
    skipSpace();
    const nameStart = i;
    while (i < n && isTchar(header.charCodeAt(i))) i++;
    const name = header.slice(nameStart, i).toLowerCase();
    if (name === '') return 'malformed';
    skipSpace();
    if (header[i] !== '=') return 'malformed';
    i++;
    skipSpace();
    let value: string;
    if (header[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const ch = header[i] as string;
        if (ch === '\\') {
          if (i + 1 >= n) return 'malformed';
          out += header[i + 1];
          i += 2;
        } else if (ch === '"') {
          closed = true;
          i++;
          break;
        } else {
          out += ch;
          i++;
        }
      }
      if (!closed) return 'malformed';
      value = out;
    } else {
      const valueStart = i;
      while (i < n && isTchar(header.charCodeAt(i))) i++;
      value = header.slice(valueStart, i);
      if (value === '') return 'malformed';
    }
    if (element.seen.has(name)) return 'malformed'; // RFC 7239 §4: each parameter at most once per element
    element.seen.add(name);
    if (name === 'for') element.for = value;
    skipSpace();
    if (i >= n) {
      endElement();
      break;
    }
    if (header[i] === ';') {
      i++;
      continue;
    }
    if (header[i] === ',') {
      i++;
      endElement();
      skipSpace();
      if (i >= n) return 'malformed';
      continue;
    }
    return 'malformed';
  }
  return hops.every((h) => h !== undefined) ? (hops as IpAddress[]) : withHoles(hops);
}

/** Keeps unusable hops as holes the walk will stop at (a sparse list keeps the positions). */
function withHoles(hops: (IpAddress | undefined)[]): IpAddress[] {
  const out: IpAddress[] = [];
  hops.forEach((hop, index) => {
    if (hop) out[index] = hop;
  });
  out.length = hops.length;
  return out;
}

/** A `for=` node or X-Forwarded-For entry: an address, or `v4:port` / `[v6]:port`. */
function nodeAddress(node: string): IpAddress | undefined {
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close === -1) return undefined;
    const rest = node.slice(close + 1);
    if (rest !== '' && !isPort(rest)) return undefined;
    return parseIpAddress(node.slice(0, close + 1));
  }
  const plain = parseIpAddress(node);
  if (plain) return plain;
  const colon = node.indexOf(':');
  if (colon !== -1) {
    if (!isPort(node.slice(colon))) return undefined;
    const address = parseIpAddress(node.slice(0, colon));
    return address?.kind() === 'ipv4' ? address : undefined;
  }
  return undefined;
}

/**
 * `X-Forwarded-For`: comma-separated addresses. Proxies also write `1.2.3.4:5678` and
 * `[2001:db8::1]:443`; those are accepted. An unusable entry is a hole the walk stops at.
 */
export function parseXForwardedFor(header: string): IpAddress[] | 'malformed' {
  if (header.length > MAX_HEADER_LENGTH) return 'malformed';
  const entries = header.split(',').map((e) => e.trim());
  if (entries.length === 1 && entries[0] === '') return 'malformed';
  const hops = entries.map((entry) => nodeAddress(entry));
  return hops.every((h) => h !== undefined) ? (hops as IpAddress[]) : withHoles(hops);
}

function isPort(text: string): boolean {
  if (text.length < 2 || text.length > 6 || text[0] !== ':') return false;
  for (let k = 1; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return Number(text.slice(1)) <= 65535;
}

/** RFC 9110 §5.6.2 tchar. */
function isTchar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
}

/** The trusted proxies as configured (`trustedProxies`), parsed once. */
export function trustedProxySet(cidrs: readonly string[]): CidrSet {
  return new CidrSet(cidrs);
}

/** The gateway's client-IP function for a request, given `trustedProxies`. */
export function requestClientIp(trustedProxies: readonly string[]): (c: Context) => string | undefined {
  const trusted = trustedProxySet(trustedProxies);
  return (c) => {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined;
    }
    return clientIpFrom({ peer, forwarded: c.req.header('forwarded'), xForwardedFor: c.req.header('x-forwarded-for') }, trusted);
  };
}

/**
 * `trustedProxies` entries so wide that many unrelated hosts fall in them (IPv4 shorter than /16,
 * IPv6 shorter than /48): every address in one can claim to forward for any client.
 */
export function wideTrustedProxies(trustedProxies: readonly string[]): string[] {
  return trustedProxies.filter((cidr) => {
    const [address, bits] = parseCidr(cidr) ?? [];
    return address !== undefined && bits !== undefined && bits < (address.kind() === 'ipv4' ? 16 : 48);
  });
}
