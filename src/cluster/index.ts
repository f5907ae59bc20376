export { sharedStateFor, type SharedState } from './shared-state.js';
export { PostgresRateLimitStore, RATE_LIMIT_TABLE } from './postgres-rate-limit-store.js';
export { PostgresReplayCache } from './postgres-replay-cache.js';
export { exclusiveFor, postgresExclusive, type Exclusive } from './exclusive.js';
