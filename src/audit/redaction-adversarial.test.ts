import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, MAX_RECORDED_STRING, REDACTED, SecretRedactor, secrets, silentLogger } from '../log/index.js';
import { replaceJwts } from '../log/jwt-shape.js';
import { SqliteStorage, type StoredAuditRecord } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';
import { AuditLog } from './audit-log.js';
import { canonicalJson } from './canonical-json.js';
import { hashArguments, looksSecret, MAX_KEY, MAX_STRING, redactArguments, scrubStrings } from './redact-arguments.js';

/*
 * Every path that scans text an attacker controls — the log redactor, audit argument
 * redaction, the audit log's append, the logger's last-line scrub — is run on megabyte inputs
 * built to make a backtracking pattern or a naive scan go quadratic. Each must finish well
 * within a generous bound on a small, busy machine (the old code took tens of seconds on
 * 180 KB), and what comes out must still be redacted and bounded.
 */

const MB = 1 << 20;
/** Generous: linear code does each of these in tens of milliseconds. */
const BOUND_MS = 1000;

/** `unit` repeated to one megabyte, between `before` and `after`. */
function megabyte(unit: string, before = '', after = ''): string {
  const room = MB - before.length - after.length;
  return before + unit.repeat(Math.ceil(room / unit.length)).slice(0, room) + after;
}

/**
 * Inputs: the attack strings recheck reported for the patterns these paths used to run
 * (scaled to a megabyte), and the shapes each remaining pattern or scanner is most sensitive to.
 */
const ADVERSARIAL: Record<string, string> = {
  'JWT pattern attack (eyJJJJJJ…eyJ-JJJy.)': megabyte('eyJJJJJJ', '', 'eyJ-JJJy.'),
  'eyJ repeated': megabyte('eyJ'),
  'JWT header and dot repeated': megabyte('eyJaaaaa.'),
  'JWT header, payload and dot repeated': megabyte('eyJaaaaa.eyJbbbbb.'),
  'one JWT prefix then a base64url run': megabyte('a', 'eyJaaaaa.eyJbbbbb'),
  'URL userinfo attack (A+A+…)': megabyte('A+'),
  'a:// repeated': megabyte('a://'),
  'scheme then colons': megabyte('x:', 'a://'),
  'scheme then a user name with no @': megabyte('b', 'x://a:'),
  'long scheme run': megabyte('a', '', '://x:y'),
  'Bearer repeated': megabyte('Bearer '),
  'Bearer then whitespace': megabyte(' ', 'Bearer'),
  'DPoP and tabs repeated': megabyte('DPoP\t'),
  'base64url alphabet run': megabyte('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'),
  'GitHub token prefix then a run': megabyte('a', 'ghp_', '_'),
  'ghp_ repeated': megabyte('ghp_'),
  'Slack prefix then a run': megabyte('a', 'xoxb-', '_'),
  'OpenAI prefix then a run': megabyte('a', 'sk-', '!'),
  'AKIA repeated': megabyte('AKIA'),
  'private key header then letters': megabyte('A ', '-----BEGIN '),
  'near misses of a registered secret': megabyte('hunter2-adversarial-secret'.slice(0, -1)),
  'a registered secret repeated': megabyte('hunter2-adversarial-secret'),
  'trailing-slash attack (////…\\0/)': megabyte('/', '', '\u0000/'),
  'flag-name attack (-0TOKENTOKEN…\\0)': megabyte('TOKEN', '-0', '\u0000'),
  'whitespace between number and unit': megabyte('\t', '0\t', '\t0'),
  'escaped quotes': megabyte('\\"'),
  'lone surrogates': megabyte('\ud800'),
  'astral characters': megabyte('😀'),
  'nested JSON as text': `${'['.repeat(MB / 2)}${']'.repeat(MB / 2)}`,
  'single character': megabyte('a'),
};

function timed(what: string, run: () => unknown): void {
  const started = performance.now();
  run();
  const elapsed = performance.now() - started;
  expect(elapsed, `${what} took ${Math.round(elapsed)} ms`).toBeLessThan(BOUND_MS);
}

async function timedAsync(what: string, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  const elapsed = performance.now() - started;
  expect(elapsed, `${what} took ${Math.round(elapsed)} ms`).toBeLessThan(BOUND_MS);
}

/** Registered like a vault value: the redactors must find it in any of the inputs. */
const SECRET = 'hunter2-adversarial-secret';

describe('redaction on adversarial megabyte inputs', () => {
  let dir: string;
  let storage: SqliteStorage;
  let audit: AuditLog;
  const redactor = new SecretRedactor();

  beforeAll(async () => {
    secrets.register(SECRET);
    redactor.register(SECRET);
    // Many registered values, sharing prefixes with each other and with the inputs: the scan
    // must not cost once per value.
    for (let i = 0; i < 300; i++) redactor.register(`${'a'.repeat(i % 40)}secret-${i}-${'eyJ'.repeat(i % 7)}`);
    dir = mkdtempSync(path.join(tmpdir(), 'gh-redos-'));
    storage = SqliteStorage.open(dir);
    audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
  });
  afterAll(async () => {
    secrets.unregister(SECRET);
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, input] of Object.entries(ADVERSARIAL)) {
    it(`stays linear on: ${name}`, async () => {
      expect(input.length).toBeGreaterThanOrEqual(MB - 1);
      timed('SecretRedactor.scrub', () => redactor.scrub(input));
      timed('SecretRedactor.scrubKnown', () => redactor.scrubKnown(input));
      timed('the shared redactor (secrets.scrub)', () => secrets.scrub(input));
      timed('replaceJwts', () => replaceJwts(input, REDACTED));
      timed('looksSecret', () => looksSecret(input));
      timed('redactArguments (value)', () => redactArguments({ q: input }));
      timed('redactArguments (name)', () => redactArguments({ [input]: 1 }));
      timed('scrubStrings', () => scrubStrings({ [input]: input }));
      timed('hashArguments', () => hashArguments({ q: input }));
      const body = {
        args: redactArguments({ q: input }),
        argsHash: hashArguments({ q: input }),
        target: { tool: input },
        outcome: { status: 'denied' as const, message: input },
        [input]: input,
      };
      let record: StoredAuditRecord | undefined;
      await timedAsync('AuditLog.append', async () => {
        record = await audit.append('call.denied', body, { durable: true });
      });
      // Three long strings and one long name, each cut; JSON escaping can grow a character to six.
      expect(record?.body.length).toBeLessThan(4 * 6 * (MAX_RECORDED_STRING + 100) + 6 * 2 * MAX_STRING);
      expect(record?.body).not.toContain(SECRET);
      let written = '';
      const log = createLogger({ destination: new Writable({ write: (chunk: Buffer, _e, cb) => ((written += chunk.toString()), cb()) }), redactor });
      timed('the logger', () => log.warn({ detail: input, [input]: 1 }, input));
      expect(written).toContain('"level":"warn"');
      expect(written.length).toBeLessThan(3 * 6 * (MAX_RECORDED_STRING + 100));
      expect(written).not.toContain(SECRET);
    }, 60_000);
  }

  it('cuts a long string of an audit record without leaving part of a secret or a JWT behind', async () => {
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdHJhZGRsZSJ9.c2lnbmF0dXJl';
    for (let back = 1; back < SECRET.length; back += 5) {
      const record = await audit.append(
        'call.denied',
        {
          outcome: { status: 'denied', message: `${'m'.repeat(MAX_RECORDED_STRING - back)}${SECRET}!` },
          note: `${'n'.repeat(MAX_RECORDED_STRING - back)}${jwt}`,
        },
        { durable: true },
      );
      expect(record?.body).not.toContain(SECRET.slice(0, 4));
      expect(record?.body).not.toContain('eyJhbGciOiJub25lIn0');
      expect(record?.body).toContain('more chars]');
    }
  });

  it('keeps a record of a megabyte argument bounded and redacted', async () => {
    const input = megabyte(`x ${SECRET} eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln `);
    const redacted = redactArguments({ q: input, [input]: 'v' }) as Record<string, string>;
    expect(redacted.q?.length).toBeLessThanOrEqual(MAX_STRING + 40);
    for (const key of Object.keys(redacted)) expect(key.length).toBeLessThanOrEqual(MAX_KEY + 40);
    const text = canonicalJson(redacted);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('eyJzdWIiOiJ4In0');
  });
});

describe('redaction properties over pathological strings', () => {
  const FRAGMENTS = [
    'eyJ',
    'eyJhbGciOiJ',
    '.',
    'a',
    'A+',
    '://',
    'x://u:',
    ':',
    '@',
    '/',
    'Bearer ',
    'DPoP ',
    ' ',
    '\t',
    '-',
    '_',
    '\\',
    '"',
    'Z',
    '\ud800',
    '😀',
    SECRET.slice(0, 7),
    SECRET.slice(7),
    SECRET,
  ];
  const pathological = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 400 }).map((parts) => parts.join(''));
  const redactor = new SecretRedactor();
  redactor.register(SECRET);

  beforeAll(() => secrets.register(SECRET));
  afterAll(() => secrets.unregister(SECRET));

  it('a registered secret never survives any redaction path, and recorded strings stay bounded', () => {
    fc.assert(
      fc.property(pathological, fc.nat({ max: 3000 }), (text, padding) => {
        // Padding moves the secret across the cut of a recorded string.
        const value = `${'p'.repeat(padding)}${text}`;
        expect(redactor.scrub(value)).not.toContain(SECRET);
        expect(redactor.scrubKnown(value)).not.toContain(SECRET);
        const recorded = canonicalJson(redactArguments({ value, [value]: value, nested: [{ value }] }));
        expect(recorded).not.toContain(SECRET);
        expect(recorded.length).toBeLessThanOrEqual(4 * (MAX_STRING + MAX_KEY + 200));
        expect(canonicalJson(scrubStrings({ [value]: [value] }))).not.toContain(SECRET);
      }),
      { numRuns: 400 },
    );
  });

  it('a secret that straddles the cut of a recorded string leaves no prefix behind', () => {
    for (let at = MAX_STRING - SECRET.length; at <= MAX_STRING; at++) {
      const value = `${'p'.repeat(at)}${SECRET}${'q'.repeat(50)}`;
      const recorded = redactArguments(value) as string;
      expect(recorded.startsWith('p'.repeat(at))).toBe(true);
      expect(recorded.slice(at)).not.toMatch(/^hunter/);
    }
  });

  it('JWTs are found exactly where the global pattern finds them', () => {
    // The pattern is quadratic on long runs; on short strings it is the reference.
    const reference = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
    const alphabet = fc.array(fc.constantFrom('eyJ', 'e', 'y', 'J', 'a', 'b', '-', '_', '.', ' ', '%'), { maxLength: 60 }).map((p) => p.join(''));
    fc.assert(
      fc.property(alphabet, (text) => {
        expect(replaceJwts(text, '#')).toBe(text.replace(reference, '#'));
      }),
      { numRuns: 3000 },
    );
  });

  it('registered values are replaced wherever any of them occurs, overlaps included', () => {
    const small = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 4, maxLength: 7 }).map((p) => p.join(''));
    fc.assert(
      fc.property(
        fc.uniqueArray(small, { minLength: 1, maxLength: 5 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'x'), { maxLength: 80 }).map((p) => p.join('')),
        (values, text) => {
          const r = new SecretRedactor();
          for (const v of values) r.register(v);
          // Reference: mark every position any value covers; each maximal covered span becomes one placeholder.
          const covered = new Array<boolean>(text.length).fill(false);
          for (const v of values) for (let at = text.indexOf(v); at >= 0; at = text.indexOf(v, at + 1)) covered.fill(true, at, at + v.length);
          let expected = '';
          for (let i = 0; i < text.length; i++) {
            if (!covered[i]) expected += text[i];
            else if (i === 0 || !covered[i - 1]) expected += REDACTED;
          }
          // Adjacent but separate occurrences may be one placeholder or two; compare with them merged.
          const merge = (s: string) => s.split(`${REDACTED}${REDACTED}`).join(REDACTED);
          expect(merge(r.scrubKnown(text))).toBe(merge(expected));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the audit log and the logger never write a registered secret', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-redos-prop-'));
    const storage = SqliteStorage.open(dir);
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    try {
      await fc.assert(
        fc.asyncProperty(pathological, async (text) => {
          const record = await audit.append(
            'call.denied',
            { outcome: { status: 'denied', message: text }, [text]: text, notes: { stderr: text } },
            { durable: true },
          );
          expect(record?.body).not.toContain(SECRET);
          expect(() => JSON.parse(record?.body ?? '') as unknown).not.toThrow();
          let written = '';
          const log = createLogger({ destination: new Writable({ write: (chunk: Buffer, _e, cb) => ((written += chunk.toString()), cb()) }), redactor });
          log.info({ detail: text, [text]: 1 }, text);
          expect(written).not.toContain(SECRET);
        }),
        { numRuns: 150 },
      );
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
