// Measured precision and recall on the generated corpora (test/fixtures/sanitize/corpus.ts), with every
// detector on and 1,000 held values loaded: the false-positive rate (fields with any finding)
// must stay at or below 0.1 %, and every true positive must be found with its type.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { falsePositiveCorpus, truePositiveCorpus } from '../../../test/fixtures/sanitize/corpus.js';
import { secretExamples } from '../../../test/fixtures/sanitize/secret-examples.js';
import { HeldValues } from './held-values.js';

function heldSet(): HeldValues {
  const held = new HeldValues();
  for (let i = 0; i < 1000; i++) {
    held.add(i % 3 === 0 ? randomBytes(24).toString('base64') : i % 3 === 1 ? randomBytes(16).toString('hex') : `Pw-${randomBytes(9).toString('base64url')}!`);
  }
  return held;
}

describe('false-positive corpus', () => {
  it('flags at most 0.1 % of ordinary fields', () => {
    const corpus = falsePositiveCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    const engine = new Engine({ held: heldSet() });
    const flagged: string[] = [];
    const perCategory = new Map<string, { n: number; flagged: number }>();
    for (const field of corpus) {
      const { findings } = engine.scan([field.text]);
      const c = perCategory.get(field.category) ?? { n: 0, flagged: 0 };
      c.n++;
      if (findings.length > 0) {
        c.flagged++;
        flagged.push(`${field.category}: ${findings.map((f) => `${f.type} ${JSON.stringify(field.text.slice(f.start, f.end))}`).join(', ')}`);
      }
      perCategory.set(field.category, c);
    }
    const rate = flagged.length / corpus.length;
    console.log(
      `false-positive rate: ${flagged.length}/${corpus.length} fields = ${(rate * 100).toFixed(3)} %\n` +
        [...perCategory].map(([k, v]) => `  ${k}: ${v.flagged}/${v.n}`).join('\n') +
        (flagged.length > 0 ? `\nflagged:\n  ${flagged.join('\n  ')}` : ''),
    );
    expect(rate).toBeLessThanOrEqual(0.001);
  });
});

describe('true-positive corpus', () => {
  it('finds every sample of personal data with its type, covering the value', () => {
    const engine = new Engine();
    const missed: string[] = [];
    const samples = truePositiveCorpus();
    for (const s of samples) {
      const { findings } = engine.scan([s.text]);
      const start = s.text.indexOf(s.value);
      const hit = findings.some((f) => f.type === s.type && f.start <= start && f.end >= start + s.value.length);
      if (!hit) missed.push(`${s.type}: ${s.text}`);
    }
    const types = new Set(samples.map((s) => s.type));
    console.log(`true positives: ${samples.length - missed.length}/${samples.length} found across ${types.size} types`);
    expect(missed).toEqual([]);
    expect([...types].sort()).toEqual(['credit_card', 'email', 'iban', 'ip_address', 'phone', 'ssn']);
  });

  it('finds every secret example (each preset rule type, JWT, PEM) and every held value in plain text', () => {
    const engine = new Engine({ held: heldSet() });
    for (const x of secretExamples()) {
      const start = x.text.indexOf(x.secret);
      expect(
        engine.scan([x.text]).findings.some((f) => f.type === x.type && f.start <= start && f.end >= start + x.secret.length),
        x.type,
      ).toBe(true);
    }
    // Held values: every one of 1,000, in plain text.
    const values = Array.from({ length: 1000 }, () => randomBytes(18).toString('base64'));
    const set = new HeldValues();
    set.replaceAll(values);
    const e2 = new Engine({ held: set, detectors: { secret: false, pii: false } });
    for (const v of values) expect(e2.scan([`leaked: ${v}.`]).findings.map((f) => f.type)).toEqual(['vault']);
  });
});
