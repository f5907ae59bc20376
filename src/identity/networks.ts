import { BlockList, isIP } from 'node:net';

/** Parses `addr/prefix` (or a bare address) into BlockList arguments; undefined if invalid. */
export function parseCidr(cidr: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = cidr.trim().split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, type: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of CIDR ranges; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match their IPv4 ranges. */
export class NetworkSet {
  readonly #list = new BlockList();
  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new RangeError(`invalid network "${cidr}"`);
      this.#list.addSubnet(parsed.address, parsed.prefix, parsed.type);
    }
  }

  has(ip: string | undefined): boolean {
    if (!ip) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const address = mapped ? (mapped[1] as string) : ip;
    const version = isIP(address);
    if (version === 0) return false;
    return this.#list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
