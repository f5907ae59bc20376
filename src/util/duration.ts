/** Milliseconds per unit of every duration Gatehouse reads: config values, rates, CLI flags. */
export const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/** `30s`, `1.5m`, `500ms`: a number and a unit, nothing around them. */
export const DURATION_WITH_UNIT = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** Parses `500ms`, `30s`, `5m`, `1h`, `1d` (or a bare number of seconds) into milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RangeError(`invalid duration: ${input}`);
    return Math.round(input * 1000);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:(ms|s|m|h|d)\s*)?$/.exec(input);
  if (!match) throw new RangeError(`invalid duration "${input}" (use e.g. 30s, 5m, 1h)`);
  const unit = (match[2] ?? 's') as DurationUnit;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** The shortest form `parseDuration` reads back to `ms`: `1d`, `5m`, `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

/** The same in words, for messages to people: `24 hours`, `hour`, `5 minutes`, `second`. */
export function describeDuration(ms: number): string {
  if (ms === UNIT_MS.d) return '24 hours';
  if (ms % UNIT_MS.h === 0) return ms === UNIT_MS.h ? 'hour' : `${ms / UNIT_MS.h} hours`;
  if (ms % UNIT_MS.m === 0) return ms === UNIT_MS.m ? 'minute' : `${ms / UNIT_MS.m} minutes`;
  return ms === UNIT_MS.s ? 'second' : `${ms / UNIT_MS.s} seconds`;
}
