// Values right after an escape in JSON text (`"line\n10.0.0.1"`): read raw, the escape's
// letter joins the value (`n10.0.0.1`) and the detectors' boundaries no longer hold, so the
// value went out in the text item while the same data in `structuredContent` was masked. And
// a placeholder that began inside an escape left half of it behind (`line\[REDACTED:email]`),
// which is no longer JSON.
import { createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeldValues } from './detect/index.js';
import { escapedLiterals, widenOverEscapes } from './json-unescape.js';
import { OutputSanitizer } from './output-sanitizer.js';
import type { RedactionReport } from './report.js';

const KEY = createSecretKey(Buffer.alloc(32, 3));
const CHANNEL = { kind: 'result', method: 'tools/call' } as const;

function textItem(s: OutputSanitizer, text: string): { text: string; report: RedactionReport | undefined } {
  let report: RedactionReport | undefined;
  const out = s.sanitize({ content: [{ type: 'text', text }] }, CHANNEL, { report: (r) => (report = r) }) as { content: { text: string }[] };
  return { text: out.content[0]!.text, report };
}

const VALUES = [
  { value: '10.0.0.1', type: 'ip_address' },
  { value: '+1 415 555 0123', type: 'phone' },
  { value: '4111 1111 1111 1111', type: 'credit_card' },
  { value: 'alice@example.com', type: 'email' },
  { value: 'ghp_0123456789abcdefghijABCDEFGHIJ012345', type: 'github_token' },
] as const;

describe('values after an escape in JSON text', () => {
  it('are found after each one-letter escape, and the text stays JSON', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    for (const { value, type } of VALUES) {
      for (const before of ['\n', '\t', '\r', '/', '\b', '\f', 'line\n', 'a\r\n']) {
        const data = { note: `${before}${value}` };
        const text = JSON.stringify(data);
        const { text: out, report } = textItem(s, text);
        const parsed = JSON.parse(out) as { note: string };
        expect(parsed.note, `${JSON.stringify(before)} ${type}`).not.toContain(value);
        expect(parsed.note).toContain(`[REDACTED:${type}]`);
        expect(report?.redactions[type]).toBe(1);
        // The structured copy of the same data agrees.
        let structured: RedactionReport | undefined;
        s.sanitize({ structuredContent: data }, CHANNEL, { report: (r) => (structured = r) });
        expect(structured?.redactions[type]).toBe(1);
      }
    }
  });

  it('leave text without such escapes, and held values in `\\n` company, as they were', () => {
    const held = new HeldValues();
    held.add({ value: 'Zq7-held-value-Zq7', ref: 'h' });
    const s = new OutputSanitizer(held, { hashKey: KEY });
    const plain = textItem(s, JSON.stringify({ a: 'nothing here', b: 'at all' }));
    expect(plain.text).toBe(JSON.stringify({ a: 'nothing here', b: 'at all' }));
    expect(plain.report?.redactions).toEqual({});
    const { text, report } = textItem(s, JSON.stringify({ a: 'x\nZq7-held-value-Zq7\ny' }));
    expect((JSON.parse(text) as { a: string }).a).toBe('x\n[REDACTED:vault]\ny');
    expect(report?.redactions).toEqual({ vault: 1 });
  });

  it('never leave a placeholder that breaks the JSON text, nor a value the structured copy masks (generated texts)', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    const noise = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '\n', '\t', '\r', '"', '\\', '/', '\u00e9', '-', '.'), maxLength: 6 });
    // What stands right before the value: JSON.stringify escapes all but the last two.
    const edge = fc.constantFrom('\n', '\t', '\r', '\b', '\f', '"', '\\', '/', ' ');
    let masked = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: noise, before: noise, edge, pick: fc.nat(VALUES.length - 1), after: noise }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(0, 2),
        (members, indent) => {
          const data = Object.fromEntries(members.map((m, i) => [`k${i}${m.key}`, `${m.before}${m.edge}${VALUES[m.pick]!.value} ${m.after}`]));
          const { text } = textItem(s, JSON.stringify(data, null, indent));
          const parsed = JSON.parse(text) as Record<string, string>;
          const structured = (s.sanitize({ structuredContent: data }, CHANNEL) as { structuredContent: Record<string, string> }).structuredContent;
          // By position: member names are scanned too, and JSON.parse keeps their order.
          const outValues = Object.values(parsed);
          const structuredValues = Object.values(structured);
          expect(outValues.length).toBe(members.length);
          for (const [i, m] of members.entries()) {
            const value = VALUES[m.pick]!.value;
            if (structuredValues[i]!.includes(value)) continue;
            masked++;
            expect(outValues[i], text).not.toContain(value);
          }
        },
      ),
      { numRuns: 1500 },
    );
    // The property was about something: most planted values are masked in the structured copy.
    expect(masked).toBeGreaterThan(1500);
  });
});

describe('escapedLiterals and widenOverEscapes', () => {
  it('read only the literals with an escape, decoded and mapped to their raw characters', () => {
    const raw = '{"a":"x\\ny","b":"plain","c":"\\u0041\\t"}';
    const found = escapedLiterals(raw);
    expect(found.map((u) => u.text)).toEqual(['x\ny', 'A\t']);
    // `y` of the first literal is at raw offset 9 (after `x`, `\`, `n`).
    expect(found[0]!.map[2]).toBe(raw.indexOf('y'));
    expect(escapedLiterals('{"a":"no escapes"}')).toEqual([]);
    // An escaped backslash before `n` is no line break.
    expect(escapedLiterals('{"a":"\\\\n"}').map((u) => u.text)).toEqual(['\\n']);
  });

  it('widen a range that begins or ends inside an escape to the whole escape, and nothing else', () => {
    const t = 'ab\\ncd\\u0041ef\\\\ng';
    // Starts on the `n` of `\n`: back to the backslash.
    expect(widenOverEscapes(t, 3, 6)).toEqual([2, 6]);
    // Starts inside `\u0041`: back to its backslash; ends inside it: on to its end.
    expect(widenOverEscapes(t, 8, 10)).toEqual([6, 12]);
    expect(widenOverEscapes(t, 0, 7)).toEqual([0, 12]);
    // Ends on a backslash that begins an escape: the escape is taken whole.
    expect(widenOverEscapes(t, 0, 3)).toEqual([0, 4]);
    // `\\n`: the `n` follows an escaped backslash, it is a plain letter.
    const n = t.lastIndexOf('n');
    expect(widenOverEscapes(t, n, n + 2)).toEqual([n, n + 2]);
    // A range ending right after a whole escape, or with no escape near, is left alone.
    expect(widenOverEscapes(t, 0, 4)).toEqual([0, 4]);
    expect(widenOverEscapes('plain text', 2, 5)).toEqual([2, 5]);
  });
});

describe('values after or written in `\\uXXXX` escapes in JSON text', () => {
  // Serializers that escape everything but ASCII (Python's json.dumps by default) write a
  // no-break space as \u00a0 and accented letters as \u00e9; some escape every character.
  const uEscaped = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

  it('are found right after a \\u escape, and the text stays JSON', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    for (const { value, type } of VALUES) {
      // Escapes of characters that are no part of a word: no-break space, line break, an emoji, a
      // space after an escaped letter.
      for (const before of ['\\u00a0', '\\u000a', '\\uD83D\\uDE00', 'caf\\u00E9 ', ':\\u2009']) {
        const text = `{"note":"${before}${value}"}`;
        const { text: out, report } = textItem(s, text);
        const parsed = JSON.parse(out) as { note: string };
        expect(parsed.note, `${before} ${type}`).not.toContain(value);
        expect(out).not.toContain(value);
        expect(parsed.note).toContain(`[REDACTED:${type}]`);
        expect(report?.redactions[type], `${before} ${type}`).toBe(1);
      }
    }
  });

  it('find at least what the structured copy of the same data finds, whatever the escaped character before the value', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    for (const { value } of VALUES) {
      for (const code of [0x00e9, 0x00a0, 0x0041, 0x0031, 0x005f, 0x2028, 0x4e2d, 0x0040]) {
        const escaped = `\\u${code.toString(16).padStart(4, '0')}`;
        const data = { note: `${String.fromCharCode(code)}${value}` };
        const fromText = textItem(s, `{"note":"${escaped}${value}"}`).report?.redactions ?? {};
        let structured: RedactionReport | undefined;
        s.sanitize({ structuredContent: data }, CHANNEL, { report: (r) => (structured = r) });
        // At least what the structured copy finds (the raw reading may find more, never less).
        for (const [type, count] of Object.entries(structured?.redactions ?? {}))
          expect(fromText[type] ?? 0, `${escaped}${value} ${type}`).toBeGreaterThanOrEqual(count);
      }
    }
  });

  it('are found when written wholly in \\u form, and masked without leaving half an escape', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    for (const { value, type } of VALUES) {
      const text = `{"note":"contact: ${uEscaped(value)} (work)"}`;
      const { text: out, report } = textItem(s, text);
      const parsed = JSON.parse(out) as { note: string };
      expect(parsed.note, type).not.toContain(value);
      expect(parsed.note).toContain(`[REDACTED:${type}]`);
      expect(parsed.note.startsWith('contact: ')).toBe(true);
      expect(parsed.note.endsWith(' (work)')).toBe(true);
      expect(report?.redactions[type], type).toBe(1);
    }
  });

  it('still finds a held value in its \\u form, and in plain text decoded from mixed escapes', () => {
    const held = new HeldValues();
    held.add({ value: 'Zq7-held-value-Zq7', ref: 'h' });
    const s = new OutputSanitizer(held, { hashKey: KEY });
    for (const written of [uEscaped('Zq7-held-value-Zq7'), `Zq7-${uEscaped('held')}-value-Zq7`, `\\u00a0Zq7-held-value-Zq7`]) {
      const { text: out, report } = textItem(s, `{"a":"${written}"}`);
      const parsed = JSON.parse(out) as { a: string };
      expect(parsed.a, written).not.toContain('Zq7-held-value-Zq7');
      expect(parsed.a).toContain('[REDACTED:vault]');
      expect(report?.redactions.vault, written).toBe(1);
    }
  });

  it('reads a literal decoded only where its escapes are well formed (a broken \\u is kept as written)', () => {
    expect(escapedLiterals('"a\\u00e9b"').map((u) => u.text)).toEqual(['aéb']);
    expect(escapedLiterals('"a\\u00zzb"')).toEqual([]);
    const [u] = escapedLiterals('"x\\u00a010.0.0.1"');
    expect(u?.text).toBe('x\u00a010.0.0.1');
    // Each decoded character maps to the start of its escape; the end maps past the literal.
    expect([...(u?.map ?? [])]).toEqual([1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  });
});

describe('values after a \\u escape in JSON text that also holds JSON text', () => {
  it('are found when another literal of the same text holds escaped quotes (the one-level-down reading decodes \\u too)', () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    for (const { value, type } of VALUES) {
      const text = `{"inner":"{\\"k\\":\\"v\\"}","note":"IP:\\u00a0${value}"}`;
      const { text: out, report } = textItem(s, text);
      expect(out, type).not.toContain(value);
      expect((JSON.parse(out) as { note: string }).note).toContain(`[REDACTED:${type}]`);
      expect(report?.redactions[type], type).toBe(1);
    }
  });
});
