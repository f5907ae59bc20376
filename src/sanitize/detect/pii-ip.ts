// IP addresses, validated with ipaddr.js.
//
// IPv4: four dotted decimal octets (0–255, no leading zeros) that stand alone: not glued to a
// word character, a dot-digit chain (`1.2.3.4.5`, `x.1.2.3.4`), `@` (`pkg@1.2.3.4`) or a
// `product/` prefix (`Chrome/120.0.0.0`), and not introduced by `v`/`ver`/`version`. A bare
// four-part version such as `1.0.0.0` is still reported: without context it is an address.
//
// IPv6: a run of hex digits, colons and dots (embedded IPv4) of at most 45 characters with at
// least three groups, valid for ipaddr.js. Two-group forms (`a::b`, `Foo::Bar` in source
// code) are spared, and so is every short form that is not a valid address (times, MACs,
// fingerprints, Python slices).
//
// Not personal data and not reported: unspecified (0.0.0.0, ::), loopback and the IPv4
// broadcast address.

import ipaddr from 'ipaddr.js';
import { introducedAsVersion, isDigit, isHexDigit, isWordChar } from './chars.js';

const NOT_REPORTED = new Set(['unspecified', 'loopback', 'broadcast']);
const MAX_V6 = 45;

function reportable(address: string): boolean {
  try {
    return !NOT_REPORTED.has(ipaddr.parse(address).range());
  } catch {
    return false;
  }
}

/** IPv4 starting at the digit-run start `s`; the end offset, or -1. */
export function ipv4At(text: string, s: number, from: number, to: number): number {
  if (s > from) {
    const before = text.charCodeAt(s - 1);
    if (isWordChar(before) || before === 0x2e || before === 0x40) return -1;
    if (before === 0x2f && s - 1 > from && isWordChar(text.charCodeAt(s - 2)) && text.charCodeAt(s - 2) !== 0x2f) return -1;
  }
  let i = s;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= to || text.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
    const start = i;
    let value = 0;
    while (i < to && i - start < 4 && isDigit(text.charCodeAt(i))) value = value * 10 + text.charCodeAt(i++) - 0x30;
    const len = i - start;
    if (len === 0 || len > 3 || value > 255 || (len > 1 && text.charCodeAt(start) === 0x30)) return -1;
  }
  if (i < to) {
    const next = text.charCodeAt(i);
    if (isWordChar(next)) return -1;
    if (next === 0x2e && i + 1 < to && isDigit(text.charCodeAt(i + 1))) return -1;
  }
  if (s > from && introducedAsVersion(text, s, from)) return -1;
  return reportable(text.slice(s, i)) ? i : -1;
}

function isV6Char(c: number): boolean {
  return isHexDigit(c) || c === 0x3a || c === 0x2e;
}

/** Calls `onAddress(type, start, end)` for every IPv6 address in `text[from, to)`. */
export function findIpv6(text: string, from: number, to: number, onAddress: (type: string, start: number, end: number) => void, type = 'ip_address'): void {
  let pos = from;
  let floor = from;
  while (pos < to) {
    const p = text.indexOf(':', pos);
    if (p === -1 || p >= to) return;
    let l = p;
    while (l > floor && p - l <= MAX_V6 && isV6Char(text.charCodeAt(l - 1))) l--;
    let r = p + 1;
    while (r < to && r - l <= MAX_V6 && isV6Char(text.charCodeAt(r))) r++;
    if (r - l > MAX_V6) {
      // Too long to be one address: skip the whole run.
      while (r < to && isV6Char(text.charCodeAt(r))) r++;
      pos = r;
      floor = r;
      continue;
    }
    pos = r;
    floor = r;
    // A sentence-ending dot is not part of the address.
    let end = r;
    while (end > p + 1 && text.charCodeAt(end - 1) === 0x2e) end--;
    if (l > from && isWordChar(text.charCodeAt(l - 1))) continue;
    if (r < to && isWordChar(text.charCodeAt(r))) continue;
    // Groups of hex digits; an embedded IPv4 address counts as the two groups it encodes.
    let colons = 0;
    let groups = 0;
    let inGroup = false;
    let dotted = false;
    for (let i = l; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x3a) {
        colons++;
        inGroup = false;
      } else {
        if (!inGroup) groups++;
        inGroup = true;
        if (c === 0x2e && !dotted) {
          dotted = true;
          groups++;
        }
      }
    }
    if (colons < 2 || groups < 3) continue;
    const candidate = text.slice(l, end);
    if (!ipaddr.IPv6.isValid(candidate) || !reportable(candidate)) continue;
    onAddress(type, l, end);
  }
}
