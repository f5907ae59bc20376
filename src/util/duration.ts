const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `5m`, `1h`, `1d` (or a bare number of seconds) into milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RangeError(`invalid duration: ${input}`);
    return Math.round(input * 1000);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:(ms|s|m|h|d)\s*)?$/.exec(input);
  if (!match) throw new RangeError(`invalid duration "${input}" (use e.g. 30s, 5m, 1h)`);
  const unit = match[2] ?? 's';
  return Math.round(Number(match[1]) * (UNITS[unit] as number));
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
