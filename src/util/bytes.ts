const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses `512kb`, `1mb`, or a bare number of bytes. */
export function parseBytes(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) throw new RangeError(`invalid size: ${input}`);
    return input;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:(b|kb|mb|gb)\s*)?$/i.exec(input);
  if (!match) throw new RangeError(`invalid size "${input}" (use e.g. 512kb, 4mb)`);
  return Math.round(Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] as number));
}
