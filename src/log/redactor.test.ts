import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { SecretRedactor, REDACTED } from './redactor.js';
import { MAX_RECORDED_STRING } from './cap-strings.js';
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

describe('SecretRedactor registration bookkeeping', () => {
  it('tracks the longest registered form as values come and go (the window a cut scrub reaches)', () => {
    const r = new SecretRedactor();
    r.register('short-secret');
    r.register('a-much-longer-registered-secret');
    r.register('mid-length-secret');
    expect(r.longest).toBe('a-much-longer-registered-secret'.length);
    r.unregister('a-much-longer-registered-secret');
    expect(r.longest).toBe('mid-length-secret'.length);
    expect(r.scrub('x a-much-longer-registered-secret y')).toBe('x a-much-longer-registered-secret y');
    r.unregister('mid-length-secret');
    r.unregister('short-secret');
    expect(r.longest).toBe(0);
    expect(r.size).toBe(0);
  });

  it('two redactors registering the same value one after the other both scrub it, and each forgets it alone', () => {
    const a = new SecretRedactor();
    const b = new SecretRedactor();
    a.register('shared"credential-value');
    b.register('shared"credential-value');
    const line = JSON.stringify({ v: 'shared"credential-value' });
    expect(a.scrub(line)).not.toContain('credential');
    expect(b.scrub(line)).not.toContain('credential');
    a.unregister('shared"credential-value');
    expect(a.size).toBe(0);
    expect(a.scrub('shared"credential-value')).toBe('shared"credential-value');
    expect(b.scrub('shared"credential-value')).toBe(REDACTED);
    // Registering again after a removal is a fresh registration, not a stale cached one.
    a.register('shared"credential-value');
    expect(a.scrub(line)).not.toContain('credential');
  });
});

describe('SecretRedactor on hostile text', () => {
  it('replaces overlapping registered values as one span, leaving no fragment of either', () => {
    const r = new SecretRedactor();
    r.register('abcd-1234');
    r.register('1234-wxyz');
    expect(r.scrub('x abcd-1234-wxyz y')).toBe(`x ${REDACTED} y`);
    expect(r.scrubKnown('abcd-1234-wxyz')).toBe(REDACTED);
  });

  it('finds JWTs inside longer runs and next to each other', () => {
    const r = new SecretRedactor();
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
    expect(r.scrub(`pre${jwt}`)).toBe(`pre${REDACTED}`);
    expect(r.scrub(`${jwt}.${jwt}`)).toBe(`${REDACTED}.${REDACTED}`);
    expect(r.scrub(`eyJsho.${jwt}`)).toBe(`eyJsho.${REDACTED}`);
    expect(r.scrub('eyJaaaaa.eyJbbbb.c')).toBe('eyJaaaaa.eyJbbbb.c');
  });

  it('scrubs only a bounded window of a long value, and still replaces a secret that crosses the cut', () => {
    const r = new SecretRedactor();
    r.register('crossing-the-cut-secret');
    const value = `${'a'.repeat(95)}crossing-the-cut-secret${'b'.repeat(1_000_000)}`;
    const { text, cut } = r.scrubPrefix(value, 100, 50);
    expect(cut).toBe(true);
    expect(text).toBe(`${'a'.repeat(95)}${REDACTED.slice(0, 5)}`);
    expect(r.scrubPrefix('short', 100, 50)).toEqual({ text: 'short', cut: false });
  });
});

describe('createLogger', () => {
  it('cuts long strings before they are written (and scanned)', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ destination, redactor: new SecretRedactor() });
    const huge = 'eyJ'.repeat(400_000);
    log.warn({ detail: huge, nested: { list: [huge] }, [huge]: 1 }, huge);
    await new Promise((r) => setImmediate(r));
    expect(out.length).toBeLessThan(5 * (MAX_RECORDED_STRING + 100));
    expect(out).toContain('more chars]');
  });

  it('leaves no part of a secret or a JWT that crosses the cut of a long string', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const redactor = new SecretRedactor();
    redactor.register('straddling-secret-value-9f2');
    const log = createLogger({ destination, redactor });
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdHJhZGRsZSJ9.c2lnbmF0dXJl';
    for (let back = 1; back < 30; back += 7) {
      log.info(
        { a: `${'x'.repeat(MAX_RECORDED_STRING - back)}straddling-secret-value-9f2 tail`, b: `${'y'.repeat(MAX_RECORDED_STRING - back)}${jwt} tail` },
        'cut',
      );
    }
    await new Promise((r) => setImmediate(r));
    expect(out).not.toMatch(/straddl/);
    expect(out).not.toContain('eyJhbGciOiJub25lIn0');
  });

  it('cuts long error messages too', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ destination, redactor: new SecretRedactor() });
    log.error({ err: new Error(`upstream said: ${'A+'.repeat(500_000)}`) }, 'failed');
    await new Promise((r) => setImmediate(r));
    expect(out.length).toBeLessThan(3 * (MAX_RECORDED_STRING + 100));
    expect(JSON.parse(out) as unknown).toMatchObject({ err: { type: 'Error', message: expect.stringContaining('more chars]') as unknown } });
  });

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

  it('finds where registered values occur, overlapping occurrences merged into one span', () => {
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
    // Many overlapping candidates stay cheap (one pass) and leave no fragment outside a span.
    r.register('aaaa');
    expect(r.spans('a'.repeat(200_003))).toEqual([[0, 200_003]]);
    expect(r.spans('abcdefg-longer')).toEqual([[0, 4]]);
  });
});
