// A value sent as a JSON number (`"card": 4111111111111111`) is data like a string: the same
// digits in a text item were masked while `structuredContent` relayed them, because the walk
// read strings only.
import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ActionTable } from './action-table.js';
import { HeldValues } from './detect/index.js';
import { OutputRefusedError } from './errors.js';
import { collectNumbers, rebuild } from './leaves.js';
import { OutputSanitizer } from './output-sanitizer.js';
import type { RedactionReport } from './report.js';

const KEY = createSecretKey(Buffer.alloc(32, 5));
const CHANNEL = { kind: 'result', method: 'tools/call' } as const;
const CARD = 4111111111111111;

function run(s: OutputSanitizer, message: unknown): { out: unknown; report: RedactionReport | undefined } {
  let report: RedactionReport | undefined;
  const out = s.sanitize(message, CHANNEL, { report: (r) => (report = r) });
  return { out, report };
}

describe('numbers in structured content', () => {
  it('a card number sent as a number is masked in both copies of a result, in members and array items', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    const data = { name: 'x', card: CARD, list: [1, CARD, 'y'], nested: { deep: [{ n: CARD }] } };
    const message = { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
    const { out, report } = run(s, message);
    const text = JSON.stringify(out);
    expect(text).not.toContain(String(CARD));
    expect((out as { structuredContent: unknown }).structuredContent).toEqual({
      name: 'x',
      card: '[REDACTED:credit_card]',
      list: [1, '[REDACTED:credit_card]', 'y'],
      nested: { deep: [{ n: '[REDACTED:credit_card]' }] },
    });
    // Three in the text item, three in the structured copy.
    expect(report?.redactions).toEqual({ credit_card: 6 });
    // The input is not changed.
    expect(data.card).toBe(CARD);
  });

  it('ordinary numbers go out as numbers, and a message with nothing found is returned as it is', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    const message = { structuredContent: { id: 100000, t: 1700000000000, amount: 865.7, neg: -3, big: 1e21, ok: true, none: null } };
    const { out, report } = run(s, message);
    expect(out).toBe(message);
    expect(report?.redactions).toEqual({});
  });

  it('drop removes the member or item; deny refuses the message', () => {
    const drop = new OutputSanitizer(new HeldValues(), { hashKey: KEY, actions: new ActionTable({ '*': { credit_card: 'drop' } }) });
    const { out } = run(drop, { structuredContent: { keep: 1, card: CARD, list: [CARD, 2] } });
    expect(out).toEqual({ structuredContent: { keep: 1, list: [2] } });
    const deny = new OutputSanitizer(new HeldValues(), { hashKey: KEY, actions: new ActionTable({ '*': { credit_card: 'deny' } }) });
    let report: RedactionReport | undefined;
    expect(() => deny.sanitize({ structuredContent: { card: CARD } }, CHANNEL, { report: (r) => (report = r) })).toThrow(OutputRefusedError);
    expect(report?.outcome).toBe('denied');
  });

  it('a held value made of digits is found in a JSON number, in results, error data and _meta', () => {
    const held = new HeldValues();
    held.add({ value: '73519284603', ref: 'pin' });
    const s = new OutputSanitizer(held, { hashKey: KEY });
    const result = run(s, { content: [], structuredContent: { pin: 73519284603, other: 73519284604 }, _meta: { n: [73519284603] } });
    expect(result.out).toEqual({ content: [], structuredContent: { pin: '[REDACTED:vault]', other: 73519284604 }, _meta: { n: ['[REDACTED:vault]'] } });
    expect(result.report?.redactions).toEqual({ vault: 2 });
    let report: RedactionReport | undefined;
    const error = s.sanitize(
      { jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'failed', data: { code: 73519284603 } } },
      { kind: 'error', method: 'tools/call' },
      {
        report: (r) => (report = r),
      },
    );
    expect(JSON.stringify(error)).not.toContain('73519284603');
    expect(report?.redactions).toEqual({ vault: 1 });
  });

  it('collectNumbers and rebuild number the numbers alike; without changes rebuild leaves them', () => {
    const root = { a: 1, b: ['s', 2, { c: 3 }], d: Number.NaN, e: 'x' };
    expect(collectNumbers(root)).toEqual(['1', '2', '3', '']);
    const out = rebuild(root, new Map(), new Set(), { replaced: new Map([[1, '[R]']]), dropped: new Set([2]) });
    // Dropping `c: 3` removes the member `c`; its object stays.
    expect(out).toEqual({ a: 1, b: ['s', '[R]', {}], d: Number.NaN, e: 'x' });
    expect(rebuild(root, new Map(), new Set(), { replaced: new Map(), dropped: new Set() })).toBe(root);
  });
});
