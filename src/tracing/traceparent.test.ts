import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads a version-00 traceparent, sampled or not', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toMatchObject({ traceFlags: 0 });
    // Flags other than sampled are not carried over.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)).toMatchObject({ traceFlags: 1 });
  });

  it('reads a later version by its first four fields', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`)).toMatchObject({ traceId: TRACE, spanId: SPAN });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)).toMatchObject({ traceId: TRACE });
  });

  it('refuses everything that is not a valid traceparent', () => {
    const bad: unknown[] = [
      undefined,
      null,
      42,
      { traceparent: `00-${TRACE}-${SPAN}-01` },
      '',
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `01-${TRACE}-${SPAN}-01x`,
      `00-${TRACE}-${SPAN}-1`,
      `00_${TRACE}_${SPAN}_01`,
      ` 00-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01\n`,
      `0g-${TRACE}-${SPAN}-01`,
      `01-${TRACE}-${SPAN}-01-${'x'.repeat(1_000_000)}`,
    ];
    for (const value of bad) expect(parseTraceparent(value), JSON.stringify(value)?.slice(0, 80)).toBeUndefined();
  });

  it('never throws and round-trips what it accepts', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        const parsed = parseTraceparent(value);
        if (parsed && value.startsWith('00-')) expect(formatTraceparent(parsed)).toBe(value.slice(0, 53) + (parsed.traceFlags ? '01' : '00'));
      }),
    );
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(hex(32), hex(16), fc.boolean(), (trace, span, sampled) => {
        const value = `00-${trace}-${span}-${sampled ? '01' : '00'}`;
        const parsed = parseTraceparent(value);
        if (/^0+$/.test(trace) || /^0+$/.test(span)) expect(parsed).toBeUndefined();
        else expect(formatTraceparent(parsed as never)).toBe(value);
      }),
    );
  });
});
