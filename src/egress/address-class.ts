import ipaddr from 'ipaddr.js';
import { ipv4FromValue, ipv4Value, type IpAddress } from './ip-address.js';

/**
 * What an address is, decided on its bytes. Only `public` (globally routable unicast) is a
 * destination for an outbound connection by default.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'uniqueLocal'
  | 'linkLocal'
  | 'siteLocal'
  | 'carrierGradeNat'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'metadata'
  | 'nat64Local';

/** IPv6 forms that carry an IPv4 address inside; the IPv4 address decides. */
export type Embedding = 'ipv4Mapped' | 'ipv4Compatible' | 'ipv4Translated' | 'nat64' | '6to4' | 'teredo';

export interface Classification {
  class: AddressClass;
  /** The address that decided the class (the embedded IPv4 address, when there is one). */
  decidedBy: IpAddress;
  /** The embedding forms unwrapped to get there, outermost first. */
  via: Embedding[];
}

type V4Range = readonly [cidr: string, cls: AddressClass];

/**
 * IPv4 special-purpose ranges (IANA registry, RFC 6890 and successors). Order matters: the
 * first match wins, so single cloud metadata addresses come before the ranges holding them.
 */
const V4_RANGES: readonly V4Range[] = [
  // Instance metadata services: AWS, GCP, Azure, OCI, DigitalOcean (169.254.169.254), AWS ECS
  // task metadata (169.254.170.2) and EKS pod identity (169.254.170.23), Alibaba Cloud
  // (100.100.100.200), Azure's host endpoint (168.63.129.16, public space yet only ever the
  // platform), Oracle Cloud's legacy address (192.0.0.192).
  ['169.254.169.254/32', 'metadata'],
  ['169.254.170.2/32', 'metadata'],
  ['169.254.170.23/32', 'metadata'],
  ['100.100.100.200/32', 'metadata'],
  ['168.63.129.16/32', 'metadata'],
  ['192.0.0.192/32', 'metadata'],
  ['0.0.0.0/8', 'unspecified'], // RFC 791 "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'carrierGradeNat'], // RFC 6598
  ['127.0.0.0/8', 'loopback'], // RFC 1122
  ['169.254.0.0/16', 'linkLocal'], // RFC 3927
  ['172.16.0.0/12', 'private'], // RFC 1918
  ['192.0.0.0/24', 'reserved'], // RFC 6890 IETF protocol assignments
  ['192.0.2.0/24', 'documentation'], // RFC 5737 TEST-NET-1
  ['192.88.99.0/24', 'reserved'], // RFC 7526 deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'], // RFC 1918
  ['198.18.0.0/15', 'benchmarking'], // RFC 2544
  ['198.51.100.0/24', 'documentation'], // RFC 5737 TEST-NET-2
  ['203.0.113.0/24', 'documentation'], // RFC 5737 TEST-NET-3
  ['224.0.0.0/4', 'multicast'], // RFC 5771
  ['255.255.255.255/32', 'broadcast'], // RFC 919
  ['240.0.0.0/4', 'reserved'], // RFC 1112
];

const V4_TABLE = V4_RANGES.map(([cidr, cls]) => {
  const [base, bits] = ipaddr.IPv4.parseCIDR(cidr);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ipv4Value(base) & mask) >>> 0, mask, cls };
});

function classifyV4(address: ipaddr.IPv4): AddressClass {
  const value = ipv4Value(address);
  for (const { base, mask, cls } of V4_TABLE) if ((value & mask) >>> 0 === base) return cls;
  return 'public';
}

const v6 = (cidr: string): [ipaddr.IPv6, number] => ipaddr.IPv6.parseCIDR(cidr);

/** IPv6 ranges after the embedded-IPv4 forms are unwrapped (RFC 6890, IANA IPv6 special registry). */
const V6_RANGES: readonly (readonly [[ipaddr.IPv6, number], AddressClass])[] = [
  [v6('fd00:ec2::254/128'), 'metadata'], // AWS instance metadata over IPv6
  [v6('2001:db8::/32'), 'documentation'], // RFC 3849
  [v6('3fff::/20'), 'documentation'], // RFC 9637
  [v6('2001:2::/48'), 'benchmarking'], // RFC 5180
  [v6('2001::/23'), 'reserved'], // RFC 2928 IETF protocol assignments (Teredo is unwrapped before)
  [v6('100::/64'), 'reserved'], // RFC 6666 discard-only
  [v6('100:0:0:1::/64'), 'reserved'], // RFC 9780 dummy prefix
  [v6('fc00::/7'), 'uniqueLocal'], // RFC 4193
  [v6('fe80::/10'), 'linkLocal'], // RFC 4291
  [v6('fec0::/10'), 'siteLocal'], // RFC 3879 (deprecated, still routed inside some sites)
  [v6('ff00::/8'), 'multicast'], // RFC 4291
  [v6('5f00::/16'), 'reserved'], // RFC 9602 segment routing
];

const GLOBAL_UNICAST = v6('2000::/3');

function word32(parts: readonly number[], at: number): ipaddr.IPv4 {
  return ipv4FromValue((((parts[at] as number) << 16) | (parts[at + 1] as number)) >>> 0);
}

/** The embedding an IPv6 address uses, and the IPv4 addresses inside it, if any. */
function embedded(address: ipaddr.IPv6): { form: Embedding; inner: ipaddr.IPv4[] } | 'unspecified' | 'loopback' | 'nat64Local' | undefined {
  const p = address.parts;
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5)) {
    if (p[5] === 0xffff) return { form: 'ipv4Mapped', inner: [word32(p, 6)] }; // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
    if (p[5] === 0) {
      if (p[6] === 0 && p[7] === 0) return 'unspecified'; // ::
      if (p[6] === 0 && p[7] === 1) return 'loopback'; // ::1
      return { form: 'ipv4Compatible', inner: [word32(p, 6)] }; // ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated)
    }
  }
  // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765 / RFC 6145 SIIT)
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return { form: 'ipv4Translated', inner: [word32(p, 6)] };
  // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052): the translator connects to the IPv4 inside.
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return { form: 'nat64', inner: [word32(p, 6)] };
  // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): never globally reachable, and where the IPv4
  // address sits depends on a prefix length only the local network knows.
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 1) return 'nat64Local';
  // 2002:AABB:CCDD::/48, 6to4 (RFC 3056): the IPv4 address is the tunnel end point.
  if (p[0] === 0x2002) return { form: '6to4', inner: [word32(p, 1)] };
  // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, Teredo (RFC 4380): server address in clear, client
  // address inverted. Both must be public.
  if (p[0] === 0x2001 && p[1] === 0) return { form: 'teredo', inner: [word32(p, 2), ipv4FromValue(~ipv4Value(word32(p, 6)) >>> 0)] };
  return undefined;
}

/**
 * Classifies an address from its bytes. IPv6 forms that carry an IPv4 address (mapped,
 * compatible, translated, NAT64, 6to4, Teredo) are classified by the IPv4 address inside, so
 * `::ffff:7f00:1`, `::127.0.0.1`, `64:ff9b::7f00:1` and `2002:7f00:1::` are all loopback.
 */
export function classifyAddress(address: IpAddress): Classification {
  if (address.kind() === 'ipv4') return { class: classifyV4(address as ipaddr.IPv4), decidedBy: address, via: [] };
  const ip = address as ipaddr.IPv6;
  const inside = embedded(ip);
  if (inside === 'unspecified' || inside === 'loopback' || inside === 'nat64Local') return { class: inside, decidedBy: ip, via: [] };
  if (inside) {
    for (const inner of inside.inner) {
      const cls = classifyV4(inner);
      if (cls !== 'public') return { class: cls, decidedBy: inner, via: [inside.form] };
    }
    return { class: 'public', decidedBy: inside.inner[0] as ipaddr.IPv4, via: [inside.form] };
  }
  for (const [range, cls] of V6_RANGES) if (ip.match(range)) return { class: cls, decidedBy: ip, via: [] };
  // Outside 2000::/3 nothing is allocated for global unicast.
  if (!ip.match(GLOBAL_UNICAST)) return { class: 'reserved', decidedBy: ip, via: [] };
  return { class: 'public', decidedBy: ip, via: [] };
}

/** Classes no allow-list opens: never a legitimate destination for a server-side request. */
export const NEVER_ALLOWED: ReadonlySet<AddressClass> = new Set(['metadata', 'unspecified', 'broadcast', 'multicast']);
