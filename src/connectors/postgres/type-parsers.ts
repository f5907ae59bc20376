/**
 * Values come back as PostgreSQL prints them, except for types JSON can carry exactly:
 * booleans, 16/32-bit integers, finite floats and JSON documents. int8 and numeric stay text
 * (no precision loss); timestamps stay text (no time-zone reinterpretation).
 */
const PARSERS: Record<number, (value: string) => unknown> = {
  16: (v) => v === 't',
  21: Number,
  23: Number,
  26: Number,
  700: (v) => (Number.isFinite(Number(v)) ? Number(v) : v),
  701: (v) => (Number.isFinite(Number(v)) ? Number(v) : v),
  114: (v) => JSON.parse(v) as unknown,
  3802: (v) => JSON.parse(v) as unknown,
};

/** The `types` option of a node-postgres pool: the parsers above, text for every other type. */
export const PG_TYPES = { getTypeParser: (oid: number) => PARSERS[oid] ?? ((v: string) => v) } as never;
