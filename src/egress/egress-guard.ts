import { lookup as dnsLookup } from 'node:dns/promises';
import { EgressRefusedError } from '../errors/index.js';
import { classifyAddress, NEVER_ALLOWED, type AddressClass, type Classification, type Embedding } from './address-class.js';
import { CidrSet } from './cidr-set.js';
import { HostAllowList } from './host-allow-list.js';
import { canonicalAddress, hostAddress, isIpLiteralHost, parseIpAddress, type IpAddress } from './ip-address.js';

/** Every address a name resolves to (A and AAAA), as the system resolver gives them. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

export interface EgressBlockedEvent {
  /** What the connection was for ("client metadata document", "approval webhook", …). */
  purpose: string;
  host: string;
  /** The refused address (canonical form), when the refusal was about one. */
  address?: string | undefined;
  class?: AddressClass | undefined;
  via?: Embedding[] | undefined;
  code: EgressRefusedError['code'];
}

export interface EgressGuardOptions {
  /** What the guarded connections are for, in logs and audit records. */
  purpose: string;
  /**
   * CIDR ranges reachable although they are not public (a webhook on the office network, a
   * loopback IdP in tests). Never opens the cloud metadata, unspecified, broadcast or
   * multicast addresses.
   */
  allowAddresses?: readonly string[] | undefined;
  /**
   * Host names the connections may name (exact, or `*.suffix`). Absent: any host, decided on
   * its addresses alone. Present: a URL (and every redirect hop) naming another host is
   * refused before anything is resolved.
   */
  allowHosts?: readonly string[] | undefined;
  resolve?: Resolver | undefined;
  onBlocked?: ((event: EgressBlockedEvent) => void) | undefined;
}

export type AddressVerdict = { allowed: true; address: IpAddress } | { allowed: false; address: IpAddress; classification: Classification };

/**
 * The one decision about where a server-side request may connect: on the address bytes
 * (see address-class.ts), after DNS, for every address a name resolves to. Only globally
 * routable unicast passes, plus what `allowAddresses` lists explicitly.
 */
export class EgressGuard {
  readonly purpose: string;
  readonly #allow: CidrSet;
  readonly #hosts: HostAllowList | undefined;
  readonly #resolve: Resolver;
  readonly #onBlocked: ((event: EgressBlockedEvent) => void) | undefined;

  constructor(options: EgressGuardOptions) {
    this.purpose = options.purpose;
    this.#allow = new CidrSet(options.allowAddresses ?? []);
    this.#hosts = options.allowHosts ? new HostAllowList(options.allowHosts) : undefined;
    this.#resolve = options.resolve ?? systemResolver;
    this.#onBlocked = options.onBlocked;
  }

  check(address: IpAddress): AddressVerdict {
    const classification = classifyAddress(address);
    if (classification.class === 'public') return { allowed: true, address };
    // The allow-list matches the address itself (an IPv4-mapped address matches its IPv4
    // range): a NAT64 or 6to4 address goes to a translator or relay, not to the IPv4 inside.
    if (!NEVER_ALLOWED.has(classification.class) && this.#allow.has(address)) {
      return { allowed: true, address };
    }
    return { allowed: false, address, classification };
  }

  /** Throws (and reports) unless the address may be connected to. */
  assertAddress(address: IpAddress, host: string): void {
    const verdict = this.check(address);
    if (!verdict.allowed) throw this.refuse(host, verdict);
  }

  /**
   * The URL may be fetched at all: http(s), and an IP-literal host is an allowed address.
   * (A name is checked when it is resolved, at connect time: see `resolve`.)
   */
  assertUrl(url: URL): void {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw this.#refuseUrl(url, `only http and https URLs are fetched, not ${url.protocol}`);
    if (url.username || url.password) throw this.#refuseUrl(url, 'URLs with credentials in them are not fetched');
    if (this.#hosts && !this.#hosts.has(url.hostname))
      throw this.#report(
        new EgressRefusedError('egress.host_refused', `refusing to connect to ${url.hostname}: the host is not in the egress allow-list`, {
          detail: { host: url.hostname, purpose: this.purpose },
        }),
        { host: url.hostname },
      );
    if (isIpLiteralHost(url)) {
      const literal = hostAddress(url);
      if (!literal) throw this.#refuseUrl(url, 'the host is not a valid address');
      this.assertAddress(literal, url.host);
    }
  }

  /**
   * Resolves a name and checks every address it resolves to: one non-public answer refuses
   * the name (a mix lets the connection land on the private one). Returns the vetted
   * addresses, which are the only ones the connection may use.
   */
  async resolve(hostname: string): Promise<IpAddress[]> {
    if (this.#hosts && !this.#hosts.has(hostname))
      throw this.#report(new EgressRefusedError('egress.host_refused', `refusing to connect to ${hostname}: the host is not in the egress allow-list`), {
        host: hostname,
      });
    const literal = parseIpAddress(hostname);
    if (literal) {
      this.assertAddress(literal, hostname);
      return [literal];
    }
    const records = await this.#resolve(hostname);
    const addresses: IpAddress[] = [];
    for (const record of records) {
      const address = parseIpAddress(record.address);
      if (!address)
        throw this.#report(
          new EgressRefusedError('egress.address_refused', `refusing to connect to ${hostname}: the resolver returned something that is not an address`),
          { host: hostname },
        );
      this.assertAddress(address, hostname);
      addresses.push(address);
    }
    if (addresses.length === 0)
      throw this.#report(new EgressRefusedError('egress.address_refused', `refusing to connect to ${hostname}: it resolves to no address`), { host: hostname });
    return addresses;
  }

  refuse(host: string, verdict: Extract<AddressVerdict, { allowed: false }>): EgressRefusedError {
    const { classification } = verdict;
    const address = canonicalAddress(verdict.address);
    const inner = classification.via.length > 0 ? ` (${classification.via.join(', ')} form of ${canonicalAddress(classification.decidedBy)})` : '';
    const error = new EgressRefusedError(
      'egress.address_refused',
      `refusing to connect to ${host}: ${address}${inner} is a ${describe(classification.class)} address, not a public one`,
      {
        detail: { host, address, class: classification.class, via: classification.via, purpose: this.purpose },
      },
    );
    return this.#report(error, { host, address, class: classification.class, via: classification.via });
  }

  /** Reports a refusal that is not about an address (a redirect, an oversized response). */
  report(error: EgressRefusedError, host: string): EgressRefusedError {
    return this.#report(error, { host });
  }

  #refuseUrl(url: URL, why: string): EgressRefusedError {
    return this.#report(new EgressRefusedError('egress.invalid_url', `refusing to fetch ${url.origin}: ${why}`), { host: url.host });
  }

  #report(error: EgressRefusedError, event: Omit<EgressBlockedEvent, 'purpose' | 'code'>): EgressRefusedError {
    try {
      this.#onBlocked?.({ purpose: this.purpose, code: error.code as EgressRefusedError['code'], ...event });
    } catch {
      // Reporting must never turn a refusal into something else.
    }
    return error;
  }
}

function describe(cls: AddressClass): string {
  const words: Record<AddressClass, string> = {
    public: 'public',
    unspecified: 'unspecified',
    loopback: 'loopback',
    private: 'private (RFC 1918)',
    uniqueLocal: 'unique local',
    linkLocal: 'link-local',
    siteLocal: 'site-local',
    carrierGradeNat: 'carrier-grade NAT',
    multicast: 'multicast',
    broadcast: 'broadcast',
    documentation: 'documentation',
    benchmarking: 'benchmarking',
    reserved: 'reserved',
    metadata: 'cloud metadata',
    nat64Local: 'local-use NAT64',
  };
  return words[cls];
}
