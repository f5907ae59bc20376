import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { SecretRedactor, REDACTED } from './redactor.js';
import { createLogger } from './logger.js';

describe('SecretRedactor', () => {
  it('replaces registered secrets, longest first', () => {
    const r = new SecretRedactor();
    r.register('hunter2-long-secret');
    r.register('hunter2');
    expect(r.scrub('pw=hunter2-long-secret and hunter2')).toBe(`pw=${REDACTED} and ${REDACTED}`);
  });

  it('ignores values too short to scrub safely', () => {
    const r = new SecretRedactor();
    r.register('ab');
    expect(r.size).toBe(0);
    expect(r.scrub('about')).toBe('about');
  });

  it('scrubs JWTs and bearer credentials even when never registered', () => {
    const r = new SecretRedactor();
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    expect(r.scrub(`token ${jwt} end`)).toBe(`token ${REDACTED} end`);
    expect(r.scrub('Authorization: Bearer abcdefgh12345678')).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it('scrubs the JSON-escaped form of a secret', () => {
    const r = new SecretRedactor();
    r.register('a"quoted\\secret');
    expect(r.scrub(JSON.stringify({ v: 'x a"quoted\\secret y' }))).not.toContain('quoted');
  });
});

describe('createLogger', () => {
  it('never writes a registered secret, an authorization header or a token field', async () => {
    const redactor = new SecretRedactor();
    redactor.register('canary-7f3a9c');
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ destination, redactor });
    log.info({ headers: { authorization: 'Bearer xyz-abcdefgh' }, token: 'tok-123456' }, 'value canary-7f3a9c seen');
    log.warn({ nested: { detail: 'stderr: canary-7f3a9c' } }, 'child said');
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('value');
    expect(out).not.toContain('canary-7f3a9c');
    expect(out).not.toContain('xyz-abcdefgh');
    expect(out).not.toContain('tok-123456');
  });

  it('finds where registered values occur, longest first, without overlaps', () => {
    const r = new SecretRedactor();
    r.register('abcd');
    r.register('abcdef-long');
    expect(r.spans('x abcdef-long y abcd zabcdabcd')).toEqual([
      [2, 13],
      [16, 20],
      [22, 26],
      [26, 30],
    ]);
    expect(r.spans('nothing here')).toEqual([]);
    // Many overlapping candidates stay cheap: each position is claimed once.
    r.register('aaaa');
    expect(r.spans('a'.repeat(200_003))).toHaveLength(50_000);
  });
});
