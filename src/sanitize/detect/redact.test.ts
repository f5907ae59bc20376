import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { HeldValues } from './held-values.js';
import { hashPlaceholder, maskPlaceholder, redact } from './redact.js';
import type { Finding } from './types.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

describe('redact', () => {
  const held = new HeldValues();
  held.add({ value: 'correct-horse-battery-staple', ref: 'vault:wifi' });
  const engine = new Engine({ held });

  it('masks every finding with [REDACTED:<type>], leaving the rest as it was', () => {
    const segments = ['mail bob@example.org or alice@example.com.', 'nothing', 'pw correct-horse-battery-staple!'];
    const out = redact(segments, engine.scan(segments).findings, 'mask');
    expect(out).toEqual(['mail [REDACTED:email] or [REDACTED:email].', 'nothing', 'pw [REDACTED:vault]!']);
    expect(maskPlaceholder('aws_access_key')).toBe('[REDACTED:aws_access_key]');
  });

  it('masks each piece of a value split across segments', () => {
    const segments = ['pw correct-horse', '-battery-staple ok'];
    expect(redact(segments, engine.scan(segments).findings, 'mask')).toEqual(['pw [REDACTED:vault]', '[REDACTED:vault] ok']);
  });

  it('merges overlapping findings into one placeholder named by the held value, then secrets, then PII', () => {
    const segments = ['postgres://app:correct-horse-battery-staple@db.example.com/app'];
    const findings = engine.scan(segments).findings;
    expect(findings.map((f) => f.type).sort()).toEqual(['connection_string', 'email', 'vault']);
    expect(redact(segments, findings, 'mask')).toEqual(['[REDACTED:vault]']);
  });

  it('hashes with a keyed HMAC: equal values hash alike, in every encoding for held values', () => {
    const a = ['bob@example.org', 'correct-horse-battery-staple', Buffer.from('correct-horse-battery-staple').toString('base64')];
    const out = redact(a, engine.scan(a).findings, 'hash', { hashKey: KEY });
    const mac = createHmac('sha256', KEY).update('email').update('\u0000').update('bob@example.org').digest('hex').slice(0, 12);
    expect(out[0]).toBe(`[HASH:email:${mac}]`);
    expect(out[1]).toMatch(/^\[HASH:vault:[0-9a-f]{12}\]$/);
    expect(out[2]).toBe(out[1]);
    // Invisible characters do not change the hash; another key does.
    const b = ['bob@exa\u200bmple.org'];
    expect(redact(b, engine.scan(b).findings, 'hash', { hashKey: KEY })[0]).toBe(out[0]);
    expect(redact(a, engine.scan(a).findings, 'hash', { hashKey: Buffer.from('another key') })[0]).not.toBe(out[0]);
    expect(hashPlaceholder('email', 'bob@example.org', KEY, 64)).toMatch(/^\[HASH:email:[0-9a-f]{64}\]$/);
  });

  it('hashes every piece of a split match with the hash of the whole match', () => {
    const segments = ['pw correct-horse', '-battery-staple'];
    const out = redact(segments, engine.scan(segments).findings, 'hash', { hashKey: KEY });
    const whole = redact(['correct-horse-battery-staple'], engine.scan(['correct-horse-battery-staple']).findings, 'hash', { hashKey: KEY });
    expect(out[0]).toBe(`pw ${whole[0]}`);
    expect(out[1]).toBe(whole[0]);
  });

  it('takes the action per finding, and leaves `keep` findings to the caller', () => {
    const segments = ['bob@example.org 203.0.113.9'];
    const findings = engine.scan(segments).findings;
    const out = redact(segments, findings, (f) => (f.type === 'email' ? 'hash' : 'keep'), { hashKey: KEY });
    expect(out[0]).toMatch(/^\[HASH:email:[0-9a-f]{12}\] 203\.0\.113\.9$/);
  });

  it('refuses to hash without a key, unknown actions and findings outside their segment', () => {
    const segments = ['bob@example.org'];
    const findings = engine.scan(segments).findings;
    expect(() => redact(segments, findings, 'hash')).toThrow(/hashKey/);
    expect(() => redact(segments, findings, 'drop' as never)).toThrow(TypeError);
    const bad: Finding = { type: 'email', detector: 'pii', segment: 0, start: 5, end: 99, match: 0 };
    expect(() => redact(segments, [bad], 'mask')).toThrow(RangeError);
    expect(() => hashPlaceholder('x', 'y', KEY, 0)).toThrow(RangeError);
  });
});
