// An engine over one caller's token is kept per caller with a small dense table. The table is
// a speed/memory trade only: what is found, and where, must not depend on it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { heldTargets } from './held-encodings.js';
import { HeldValues } from './held-values.js';

const TOKEN = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'agent-7', aud: 'https://gw.example/mcp', jti: 'c0ffee-4242' })).toString('base64url')}.${'Sg'.repeat(43)}`;

function engine(denseBudget: number | undefined): Engine {
  const held = new HeldValues();
  held.add({ value: TOKEN, type: 'access_token', ref: 'caller' });
  return new Engine({ held, detectors: { held: true, secret: false, pii: false }, readingOrders: true, ...(denseBudget === undefined ? {} : { denseBudget }) });
}

describe('engine dense-table budget', () => {
  const full = engine(undefined);
  const small = engine(1 << 14);
  const rootOnly = engine(0);
  const forms = heldTargets(TOKEN).map((t) => t.text);

  it('finds every encoding of the token whole, with any budget', () => {
    for (const form of forms) {
      const text = `before ${form} after`;
      for (const e of [full, small, rootOnly]) {
        const found = e.scan([text]).findings;
        expect(found.length, form.slice(0, 20)).toBeGreaterThan(0);
        expect(found.some((f) => f.start <= 7 && f.end >= 7 + form.length)).toBe(true);
      }
    }
  });

  it('reports the same findings as the fully dense automaton on mixed text, split across segments too', () => {
    const pieces = fc.oneof(
      fc.constantFrom(...forms),
      fc.constantFrom(...forms).map((f) => f.slice(0, Math.ceil(f.length / 2))),
      fc.constantFrom(...forms).map((f) => f.slice(Math.floor(f.length / 3))),
      fc.string({ unit: fc.constantFrom('a', 'S', 'g', 'e', 'y', 'J', '.', '%', '\\', 'u', '0', '2', ' ', '"') }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.array(pieces, { maxLength: 4 }).map((p) => p.join('')),
          { minLength: 1, maxLength: 4 },
        ),
        (segments) => {
          const expected = full.scan(segments).findings;
          expect(small.scan(segments).findings).toEqual(expected);
          expect(rootOnly.scan(segments).findings).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
