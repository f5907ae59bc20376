import { createGuardedFetch, EgressGuard, type EgressGuardOptions, type GuardedFetch, type GuardedFetchOptions } from '../egress/index.js';

/**
 * The fetch a connector's credential providers (token endpoints) use: the same egress guard as
 * the connector's own calls, with small response and time limits because a token answer is short.
 */
export function credentialFetch(
  guard: Pick<EgressGuardOptions, 'purpose' | 'allowHosts' | 'allowAddresses' | 'onBlocked'>,
  dangerouslyAllowInsecureTls: GuardedFetchOptions['dangerouslyAllowInsecureTls'],
): GuardedFetch['fetch'] {
  return createGuardedFetch({
    guard: new EgressGuard(guard),
    maxResponseBytes: 256 * 1024,
    timeoutMs: 10_000,
    dangerouslyAllowInsecureTls,
  }).fetch;
}
