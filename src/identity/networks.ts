import { CidrSet } from '../egress/cidr-set.js';
import { parseIpAddress } from '../egress/ip-address.js';

export { isCidr } from '../egress/cidr-set.js';

/**
 * A set of CIDR ranges for conditional access. The address is parsed from its canonical text
 * (the gateway's client-IP decision produces nothing else); IPv4-mapped IPv6 addresses, in
 * dotted or hex form, match their IPv4 ranges.
 */
export class NetworkSet {
  readonly #set: CidrSet;
  constructor(readonly cidrs: readonly string[]) {
    this.#set = new CidrSet(cidrs);
  }

  has(ip: string | undefined): boolean {
    return ip !== undefined && this.#set.has(parseIpAddress(ip));
  }
}
