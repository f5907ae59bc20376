export { CallLimits, type CallKey, type CallLimitsConfig } from './call-limits.js';
export { MemoryRateLimitStore, counterFrom, type RateLimitStore, type WindowCounter } from './store.js';
