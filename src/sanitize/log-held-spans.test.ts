// Logs and audit records match held credentials with the exit point's automaton of the held
// set (one automaton for both). These tests check that nothing a log line could carry of a
// held value survives that hand-over, and that the hold is given back when the value goes.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, SecretRedactor, createLogger, heldCredentials, registerCredential, secrets, unregisterCredential } from '../log/index.js';
import { heldTargets } from './detect/held-encodings.js';
// Loading the sanitizer is what hands its held matching to the log room (as the gateway does).
import { heldValues } from './held.js';
import './sanitizer.js';

let counter = 0;
/** A fresh canary per test: the registries are process-wide. */
function canary(): string {
  counter++;
  return `canary-${counter}-Xq7vB2mK9pLw4RtZ`;
}

function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(value),
    [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    [...value].reverse().join(''),
  ];
}

function logLines(write: (log: ReturnType<typeof createLogger>) => void): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  write(createLogger({ level: 'info', destination: sink }));
  return lines.join('');
}

describe('held credentials in logs, matched with the sanitizer automaton', () => {
  it('a registered credential is taken by the held set, and no log line carries it in any encoding', () => {
    const value = canary();
    const before = secrets.size;
    registerCredential(value);
    try {
      expect(heldValues.has(value)).toBe(true);
      // One entry, not the value's twenty-odd forms in an automaton of the redactor's own.
      expect(secrets.size - before).toBe(1);
      for (const form of encodings(value)) {
        const text = logLines((log) => log.info({ stderr: `upstream echoed ${form} here`, nested: { q: [`x${form}y`] } }, `said: ${form}.`));
        expect(text, form).toContain('upstream echoed');
        expect(text, form).not.toContain(form);
        expect(text, form).not.toContain(value.slice(6, 20));
        expect(secrets.scrub(`a ${form} b`), form).toBe(`a ${REDACTED} b`);
      }
      // The approvals' redactor sees it too.
      expect(heldCredentials.scrubKnown(`reason: ${value}`)).toBe(`reason: ${REDACTED}`);
      expect(heldCredentials.spans(`..${value}..`)).toEqual([[2, 2 + value.length]]);
    } finally {
      unregisterCredential(value);
    }
  });

  it('a cut scrub reaches as far as the longest encoding of a held value', () => {
    const value = canary();
    registerCredential(value);
    try {
      const longest = Math.max(...heldTargets(value).map((t) => t.text.length));
      expect(longest).toBe(value.length * 6);
      expect(secrets.longest).toBeGreaterThanOrEqual(longest);
      const escaped = [...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
      // The escaped form starts just before the cut and runs far past it.
      const text = `${'a'.repeat(100)}${escaped}${'b'.repeat(100)}`;
      const { text: kept } = secrets.scrubPrefix(text, 110, 0);
      expect(kept).toBe(`${'a'.repeat(100)}${REDACTED}`.slice(0, 110));
      expect(kept).not.toContain('\\u0063\\u0061');
    } finally {
      unregisterCredential(value);
    }
  });

  it('an unregistered credential is given back: the held set forgets it and logs keep the text', () => {
    const value = canary();
    registerCredential(value);
    unregisterCredential(value);
    expect(heldValues.has(value)).toBe(false);
    expect(secrets.scrub(`x ${value} y`)).toBe(`x ${value} y`);
    // Registered again: scrubbed again (no stale state from the first round).
    registerCredential(value);
    try {
      expect(secrets.scrub(`x ${value} y`)).toBe(`x ${REDACTED} y`);
    } finally {
      unregisterCredential(value);
    }
    expect(heldValues.has(value)).toBe(false);
  });

  it('values the held set does not take are still scrubbed by the redactor itself', () => {
    // Too short for the held set (minimum 8) but long enough for logs.
    const short = 'pw7Qz';
    // An invisible character: the held set compares normalized text, the redactor the value as given.
    const invisible = `zero\u200bwidth-${canary()}`;
    for (const value of [short, invisible]) {
      registerCredential(value);
      try {
        expect(secrets.scrub(`k=${value};`), JSON.stringify(value)).toBe(`k=${REDACTED};`);
        expect(secrets.scrub(JSON.stringify({ v: value })), JSON.stringify(value)).not.toContain(value);
      } finally {
        unregisterCredential(value);
      }
    }
    expect(heldValues.has(short)).toBe(false);
    expect(heldValues.has(invisible)).toBe(false);
  });

  it('overlapping held and own values are replaced as one span, leaving no fragment', () => {
    const held = canary();
    const short = held.slice(-6);
    const r = new SecretRedactor();
    registerCredential(held);
    try {
      r.register(held);
      r.register(`${short}-tail`);
      expect(r.scrub(`[${held}-tail]`)).toBe(`[${REDACTED}]`);
      r.unregister(held);
      expect(heldValues.has(held)).toBe(true);
    } finally {
      unregisterCredential(held);
    }
    expect(heldValues.has(held)).toBe(false);
  });

  it('a long structured value (matched in chunks) is scrubbed whole from a log line', () => {
    const pem = `-----BEGIN TEST KEY-----\n${'MIIEowIBAAKCAQEAx9'.repeat(20)}${canary()}\n-----END TEST KEY-----`;
    registerCredential(pem);
    try {
      for (const form of [pem, JSON.stringify(pem).slice(1, -1), Buffer.from(pem).toString('base64')]) {
        const out = secrets.scrub(`before ${form} after`);
        expect(out).toBe(`before ${REDACTED} after`);
      }
    } finally {
      unregisterCredential(pem);
    }
  });
});
