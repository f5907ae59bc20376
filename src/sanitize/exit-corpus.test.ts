// The false-positive rate of the whole exit point: the corpus of ordinary fields (prose,
// source code, UUIDs, hashes, git SHAs, base64 images, timestamps, versions, …) relayed as
// tool results, every detector on, 1,000 held values loaded. Target: ≤ 0.1 % of fields changed.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { falsePositiveCorpus } from '../../test/fixtures/sanitize/corpus.js';
import { HeldValues } from './detect/index.js';
import { OutputSanitizer } from './output-sanitizer.js';

describe('false positives through the exit point', () => {
  it('changes at most 0.1 % of ordinary fields, relayed as text items and structured members', () => {
    const held = new HeldValues();
    for (let i = 0; i < 1000; i++) held.add(i % 2 === 0 ? randomBytes(24).toString('base64') : `Pw-${randomBytes(9).toString('base64url')}!`);
    const sanitizer = new OutputSanitizer(held);
    const corpus = falsePositiveCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    const changed: string[] = [];
    // Ten fields per result, as a tool returning records would.
    for (let i = 0; i < corpus.length; i += 10) {
      const batch = corpus.slice(i, i + 10);
      const result = {
        content: batch.map((f) => ({ type: 'text', text: f.text })),
        structuredContent: { records: batch.map((f, k) => ({ id: i + k, category: f.category, value: f.text })) },
      };
      const out = sanitizer.sanitize(result, { kind: 'result', method: 'tools/call' }, { report: () => {} });
      if (out === result) continue;
      batch.forEach((f, k) => {
        const text = out.content[k]?.text;
        const value = out.structuredContent.records[k]?.value;
        if (text !== f.text || value !== f.text) changed.push(`${f.category}: ${JSON.stringify(f.text.slice(0, 80))}`);
      });
    }
    const rate = changed.length / corpus.length;
    console.log(
      `exit-point false-positive rate: ${changed.length}/${corpus.length} fields = ${(rate * 100).toFixed(3)} %${changed.length ? `\n  ${changed.join('\n  ')}` : ''}`,
    );
    expect(rate).toBeLessThanOrEqual(0.001);
  });
});
