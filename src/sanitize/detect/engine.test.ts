import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { secretExamples } from '../../../test/fixtures/sanitize/secret-examples.js';
import { HeldValues } from './held-values.js';
import type { Finding } from './types.js';

const key = (segments: readonly string[], f: Finding) => `${f.detector}:${f.type}@${f.segment}=${segments[f.segment]!.slice(f.start, f.end)}`;

describe('Engine.scan', () => {
  const held = new HeldValues();
  held.add({ value: 'vault-value-0123456789', ref: 'vault:db' });
  const engine = new Engine({ held });

  it('reports held, secret and personal-data findings per segment, in segment order', () => {
    const github = secretExamples().find((x) => x.type === 'github_token')!.secret;
    const segments = ['no findings here', `token ${github}`, 'mail bob@example.org and vault-value-0123456789', ''];
    const { findings, capped, unscanned } = engine.scan(segments);
    expect(capped).toBe(false);
    expect(unscanned).toEqual([]);
    expect(findings.map((f) => key(segments, f))).toEqual([
      `secret:github_token@1=${github}`,
      'pii:email@2=bob@example.org',
      'held:vault@2=vault-value-0123456789',
    ]);
    expect(findings.find((f) => f.detector === 'held')!.ref).toBe('vault:db');
    expect(new Set(findings.map((f) => f.match)).size).toBe(3);
  });

  it('a held-only engine scanning with the full automaton of its held set reports held values only, the same as with its own', () => {
    const github = secretExamples().find((x) => x.type === 'github_token')!.secret;
    const segments = [`token ${github} for bob@example.org`, 'vault-value-01', '23456789 and 4111 1111 1111 1111', 'vault-value-0123456789'];
    const shared = new HeldValues();
    shared.add({ value: 'vault-value-0123456789', ref: 'vault:db' });
    // Built after a full engine on the same set: it takes that engine's automaton (anchors included).
    new Engine({ held: shared }).prepare();
    const afterFull = new Engine({ held: shared, detectors: { held: true, secret: false, pii: false } }).scan(segments).findings;
    const alone = new HeldValues();
    alone.add({ value: 'vault-value-0123456789', ref: 'vault:db' });
    const ownAutomaton = new Engine({ held: alone, detectors: { held: true, secret: false, pii: false } }).scan(segments).findings;
    expect(afterFull.map((f) => key(segments, f))).toEqual(['held:vault@1=vault-value-01', 'held:vault@2=23456789', 'held:vault@3=vault-value-0123456789']);
    expect(afterFull).toEqual(ownAutomaton);
  });

  it('maps offsets back to the original strings when invisible characters were removed', () => {
    const segments = ['\u200b\u200bcall\u2066 bob\u00ad@exam\u200bple.org\u2069 now'];
    const [f] = engine.scan(segments).findings;
    expect(f!.type).toBe('email');
    expect(segments[0]!.slice(f!.start, f!.end)).toBe('bob\u00ad@exam\u200bple.org');
  });

  it('does not join segments for formats (an address split across two leaves is two strings)', () => {
    expect(engine.scan(['bob@example', '.org']).findings).toEqual([]);
    expect(engine.scan(['4111 1111', '1111 1111']).findings).toEqual([]);
  });

  it('turns detector families and personal-data kinds on and off', () => {
    const segments = ['bob@example.org 203.0.113.9 vault-value-0123456789 AKIAABCDEFGHIJKLMNOP'];
    const only = (options: ConstructorParameters<typeof Engine>[0]) =>
      new Engine({ held, ...options })
        .scan(segments)
        .findings.map((f) => f.type)
        .sort();
    expect(only({})).toEqual(['aws_access_key', 'email', 'ip_address', 'vault']);
    expect(only({ detectors: { pii: false } })).toEqual(['aws_access_key', 'vault']);
    expect(only({ detectors: { held: false, secret: false } })).toEqual(['email', 'ip_address']);
    expect(only({ pii: ['ip'] })).toEqual(['aws_access_key', 'ip_address', 'vault']);
    expect(only({ held: null })).toEqual(['aws_access_key', 'email', 'ip_address']);
  });

  it('scans up to the per-segment and per-message caps and says what it did not scan', () => {
    const capped = new Engine({ held, maxScanChars: { perSegment: 20, perMessage: 30 } });
    const segments = ['0123456789 bob@example.org', 'abc alice@example.org', 'carol@example.org'];
    const result = capped.scan(segments);
    expect(result.capped).toBe(true);
    expect(result.unscanned).toEqual([
      { segment: 0, from: 20 },
      { segment: 1, from: 10 },
      { segment: 2, from: 0 },
    ]);
    // Nothing beyond the caps was looked at.
    expect(result.findings).toEqual([]);
    const exact = new Engine({ maxScanChars: { perSegment: 26, perMessage: 26 } }).scan(['0123456789 bob@example.org']);
    expect(exact.capped).toBe(false);
    expect(exact.findings.map((f) => f.type)).toEqual(['email']);
  });

  it('rejects bad options and segments that are not strings', () => {
    expect(() => new Engine({ maxScanChars: { perSegment: -1 } })).toThrow(RangeError);
    expect(() => new Engine({ maxScanChars: { perMessage: 1.5 } })).toThrow(RangeError);
    expect(() => engine.scan(['ok', 42 as unknown as string])).toThrow(TypeError);
  });

  it('picks up held-value changes between scans', () => {
    const set = new HeldValues();
    const e = new Engine({ held: set });
    expect(e.scan(['rotated-secret-abcdef']).findings).toEqual([]);
    set.add('rotated-secret-abcdef');
    expect(e.scan(['rotated-secret-abcdef']).findings.map((f) => f.type)).toEqual(['vault']);
    set.replaceAll([]);
    expect(e.scan(['rotated-secret-abcdef']).findings).toEqual([]);
  });

  it('can build the automaton ahead of the first scan after a change', () => {
    const set = new HeldValues();
    const e = new Engine({ held: set });
    set.add('prepared-secret-value');
    e.prepare();
    expect(e.scan(['x prepared-secret-value']).findings.map((f) => f.type)).toEqual(['vault']);
  });

  it('shares one automaton between engines on the same held set, and both see changes', () => {
    const set = new HeldValues();
    set.add('shared-secret-value-1');
    const a = new Engine({ held: set });
    const b = new Engine({ held: set, pii: ['email'] });
    expect(a.scan(['shared-secret-value-1']).findings).toHaveLength(1);
    expect(b.scan(['shared-secret-value-1']).findings).toHaveLength(1);
    set.add('shared-secret-value-2');
    expect(a.scan(['shared-secret-value-2']).findings).toHaveLength(1);
    expect(b.scan(['shared-secret-value-2']).findings).toHaveLength(1);
  });

  it('returns findings that carry no matched text', () => {
    const github = secretExamples().find((x) => x.type === 'github_token')!.secret;
    const { findings } = engine.scan([`x ${github} vault-value-0123456789`]);
    const serialized = JSON.stringify(findings);
    expect(serialized).not.toContain(github);
    expect(serialized).not.toContain('vault-value-0123456789');
  });
});
