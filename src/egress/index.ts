export { classifyAddress, NEVER_ALLOWED, type AddressClass, type Classification, type Embedding } from './address-class.js';
export { CidrSet, parseCidr } from './cidr-set.js';
export { EgressGuard, systemResolver, type EgressBlockedEvent, type EgressGuardOptions, type Resolver } from './egress-guard.js';
export { createGuardedFetch, type GuardedExchange, type GuardedFetch, type GuardedFetchOptions } from './guarded-fetch.js';
export { HostAllowList, hostPatternProblem } from './host-allow-list.js';
export { limitResponse, readLimited } from './limit-response.js';
export { canonicalAddress, hostAddress, isIpLiteralHost, parseIpAddress, unmap, type IpAddress } from './ip-address.js';
export { auditBlockedEgress } from './audit-blocked.js';
