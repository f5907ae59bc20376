import type { LookupAddress } from 'node:dns';
import type { EgressGuard } from './egress-guard.js';
import { canonicalAddress } from './ip-address.js';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `net.connect` / `tls.connect`: resolves the name once, checks every address
 * through the guard, and hands the socket only those vetted addresses. The check and the
 * connection use the same answer, so a name that re-resolves to a private address between
 * the two (DNS rebinding) cannot get through.
 */
export function pinnedLookup(guard: EgressGuard) {
  return (hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void => {
    guard.resolve(hostname).then(
      (addresses) => {
        const family = options.family === 'IPv4' || options.family === 4 ? 4 : options.family === 'IPv6' || options.family === 6 ? 6 : 0;
        const list: LookupAddress[] = addresses
          .map((a) => ({ address: a.kind() === 'ipv4' ? canonicalAddress(a) : a.toString(), family: a.kind() === 'ipv4' ? 4 : 6 }))
          .filter((a) => family === 0 || a.family === family);
        if (list.length === 0) return callback(Object.assign(new Error(`${hostname} has no address of the requested family`), { code: 'ENOTFOUND' }), []);
        if (options.all) return callback(null, list);
        const first = list[0] as LookupAddress;
        return callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, []),
    );
  };
}
