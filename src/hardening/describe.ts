import type { HardeningStatus } from './process-hardening.js';

/** The `gatehouse status` line for the gateway's process hardening. */
export function describeHardening(h: HardeningStatus | undefined): string {
  if (!h) return '  hardening: unknown (the gateway did not report it)';
  const core = h.coreLimit ? `core limit ${h.coreLimit.soft ?? 'unlimited'}/${h.coreLimit.hard ?? 'unlimited'}` : 'core limit unknown';
  const dumpable = h.dumpable === null ? 'dumpable unknown' : h.dumpable ? 'DUMPABLE' : 'not dumpable';
  const children = h.children.dumpable ? 'children not dumpable' : 'children dumpable';
  if (h.enabled) return `  hardening: on (${dumpable}, ${core}, ${children})`;
  return `  hardening: OFF (${h.reason ?? 'unknown reason'}; ${dumpable}, ${core})`;
}
