import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Parses an address written in its canonical text form: dotted-decimal IPv4 (no octal, hex,
 * short or single-number forms: those are URL-parser business, see `hostAddress`) or IPv6,
 * optionally in brackets. Zone ids (`fe80::1%eth0`) are refused: a zone picks an interface,
 * which no caller here has a reason to accept from outside. Anything else: undefined.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const bracketed = text.startsWith('[') && text.endsWith(']');
  const bare = bracketed ? text.slice(1, -1) : text;
  if (bare.includes('%')) return undefined;
  const version = isIP(bare);
  if (version === 0 || (bracketed && version !== 6)) return undefined;
  try {
    return version === 4 ? ipaddr.IPv4.parse(bare) : ipaddr.IPv6.parse(bare);
  } catch {
    return undefined;
  }
}

/**
 * The address a URL names, when its host is an IP literal. The WHATWG URL parser has already
 * turned every IPv4 spelling (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `127.0.0.1.`)
 * into dotted decimal and every IPv6 one into its compressed lowercase form, so the bytes
 * decide, not the spelling. A name (anything else) gives undefined.
 */
export function hostAddress(url: URL): IpAddress | undefined {
  const host = url.hostname;
  if (host.startsWith('[')) return parseIpAddress(host);
  return isIP(host) === 4 ? parseIpAddress(host) : undefined;
}

/** True when the URL's host is an IP literal in any form (v4 in any spelling, or bracketed v6). */
export function isIpLiteralHost(url: URL): boolean {
  return url.hostname.startsWith('[') || isIP(url.hostname) === 4;
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes the IPv4 address it is; everything else is kept. */
export function unmap(address: IpAddress): IpAddress {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** One text form per address: dotted decimal, or RFC 5952 IPv6; IPv4-mapped shown as IPv4. */
export function canonicalAddress(address: IpAddress): string {
  const plain = unmap(address);
  return plain.kind() === 'ipv4' ? plain.toString() : (plain as ipaddr.IPv6).toRFC5952String();
}

/** The 32-bit value of an IPv4 address. */
export function ipv4Value(address: ipaddr.IPv4): number {
  const [a, b, c, d] = address.octets as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function ipv4FromValue(value: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}
