import type ipaddr from 'ipaddr.js';
import { parseIpAddress, unmap, type IpAddress } from './ip-address.js';

export type Cidr = [IpAddress, number];

/** True when `cidr` is a network written canonically (`10.0.0.0/8`, `2001:db8::/32`, or one address). */
export function isCidr(cidr: string): boolean {
  return parseCidr(cidr) !== undefined;
}

/**
 * Parses `address/prefix` (or a bare address, a single host). The address must be written in
 * canonical form (dotted decimal or IPv6); `0x7f.1/8` and friends are refused rather than
 * guessed. IPv4-mapped IPv6 ranges (`::ffff:10.0.0.0/104`) become their IPv4 range.
 */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  const address = parseIpAddress(addressText);
  if (!address || addressText.startsWith('[')) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  const plain = unmap(address);
  if (plain !== address) return prefix >= 96 ? [plain, prefix - 96] : undefined;
  return [address, prefix];
}

/** A set of CIDR ranges. An IPv4-mapped IPv6 address matches the IPv4 ranges it maps to. */
export class CidrSet {
  readonly #ranges: Cidr[];

  constructor(readonly cidrs: readonly string[]) {
    this.#ranges = cidrs.map((cidr) => {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new RangeError(`invalid network "${cidr}" (write e.g. 10.0.0.0/8 or 2001:db8::/32)`);
      return parsed;
    });
  }

  get size(): number {
    return this.#ranges.length;
  }

  has(address: IpAddress | undefined): boolean {
    if (!address) return false;
    const plain = unmap(address);
    return this.#ranges.some(([base, bits]) => base.kind() === plain.kind() && (plain as ipaddr.IPv4).match(base as ipaddr.IPv4, bits));
  }
}
