import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSecretKey, randomBytes } from 'node:crypto';
import { secretExamples } from '../../test/fixtures/sanitize/secret-examples.js';
import { ActionTable } from './action-table.js';
import { Engine, HeldValues } from './detect/index.js';
import { OutputRefusedError, SanitizeError } from './errors.js';
import { OutputSanitizer, type Channel } from './output-sanitizer.js';
import type { RedactionReport } from './report.js';

const result: Channel = { kind: 'result', method: 'tools/call' };
const VAULT = 'vault-value-9f8e7d6c5b4a3210';
const AWS = 'AKIAQWERTYUIOPASDFGH';
const text = (t: string) => ({ content: [{ type: 'text', text: t }] });
const wire = (v: unknown) => JSON.stringify(v);

function make(options: ConstructorParameters<typeof OutputSanitizer>[1] = {}) {
  const held = new HeldValues();
  held.add(VAULT);
  return new OutputSanitizer(held, options);
}

function run<T>(s: OutputSanitizer, message: T, channel: Channel = result, classification?: 'public' | 'internal' | 'confidential' | 'secret') {
  let report: RedactionReport | undefined;
  const out = s.sanitize(message, channel, { classification, report: (r) => (report = r) });
  return { out, report: report as RedactionReport };
}

afterEach(() => vi.restoreAllMocks());

describe('OutputSanitizer: detectors on every finding type', () => {
  it('masks held values, secret formats and personal data in one result, and counts them by type', () => {
    const s = make();
    const message = {
      content: [
        { type: 'text', text: `vault ${VAULT}; aws ${AWS}; mail jane.doe@example.com; ssn 123-45-6789; card 4111 1111 1111 1111` },
        { type: 'resource', resource: { uri: 'file:///x', text: 'iban DE89370400440532013000 ip 203.0.113.7' } },
      ],
      structuredContent: { 'jane.doe@example.com': { phone: '+1 415 555 2671' } },
      _meta: { debug: `token ${VAULT}` },
    };
    const { out, report } = run(s, message);
    const w = wire(out);
    for (const leaked of [VAULT, AWS, 'jane.doe@example.com', '123-45-6789', '4111 1111 1111 1111', 'DE89370400440532013000', '203.0.113.7', '415 555 2671'])
      expect(w).not.toContain(leaked);
    expect(w).toContain('[REDACTED:vault]');
    expect(w).toContain('[REDACTED:aws_access_key]');
    expect(w).toContain('[REDACTED:email]');
    expect(w).toContain('[REDACTED:ssn]');
    expect(w).toContain('[REDACTED:credit_card]');
    expect(w).toContain('[REDACTED:iban]');
    expect(w).toContain('[REDACTED:ip_address]');
    expect(w).toContain('[REDACTED:phone]');
    expect(report.redactions).toMatchObject({ vault: 2, aws_access_key: 1, email: 2, ssn: 1, credit_card: 1, iban: 1, ip_address: 1, phone: 1 });
    expect(report.actions.mask).toBe(10);
    expect(report.outcome).toBe('relayed');
    // The report holds counts and names, never a value.
    expect(wire(report)).not.toMatch(/AKIA|example\.com|vault-value|6789/);
  });

  it('finds every secret example of the rule set (each preset type, JWT, PEM) in a relayed result', () => {
    const s = make();
    for (const x of secretExamples()) {
      const { out, report } = run(s, text(x.text));
      expect(wire(out), x.type).not.toContain(x.secret);
      expect(report.redactions[x.type], x.type).toBeGreaterThanOrEqual(1);
    }
  });

  it('leaves ordinary results untouched (the very same object)', () => {
    const s = make();
    const message = { content: [{ type: 'text', text: 'Deployed v2.3.1 at 2026-03-01T10:00:00Z, commit 4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39.' }] };
    const { out, report } = run(s, message);
    expect(out).toBe(message);
    expect(report.redactions).toEqual({});
  });
});

describe('OutputSanitizer: actions per classification', () => {
  const actions = new ActionTable({
    '*': { pii: 'mask' },
    internal: { email: 'hash' },
    confidential: { email: 'drop', ssn: 'drop' },
    secret: { private_key: 'deny', email: 'allow' },
  });

  it('hash: a keyed HMAC placeholder, equal for equal values, different under another key', () => {
    const key = createSecretKey(randomBytes(32));
    const s = make({ actions, hashKey: key });
    const a = wire(run(s, text('a@example.com and a@example.com and b@example.com'), result, 'internal').out);
    const hashes = a.match(/\[HASH:email:[0-9a-f]{12}\]/g) ?? [];
    expect(hashes).toHaveLength(3);
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[2]).not.toBe(hashes[0]);
    expect(a).not.toContain('@example.com');
    const other = make({ actions, hashKey: createSecretKey(randomBytes(32)) });
    expect(wire(run(other, text('a@example.com'), result, 'internal').out)).not.toContain(hashes[0]);
  });

  it('drop: the member goes, or the whole content item when its text goes', () => {
    const s = make({ actions });
    const { out, report } = run(
      s,
      {
        content: [
          { type: 'text', text: 'contact: x@example.com' },
          { type: 'text', text: 'kept' },
        ],
        structuredContent: { name: 'Ann', ssn: '123-45-6789', age: 41 },
      },
      result,
      'confidential',
    );
    expect(out).toEqual({ content: [{ type: 'text', text: 'kept' }], structuredContent: { name: 'Ann', age: 41 } });
    expect(report.actions.drop).toBe(2);
  });

  it('drop: a member whose name holds the finding goes even when its value is clean', () => {
    const s = make({ actions });
    const { out, report } = run(
      s,
      // Each finding alone in its object: nothing else there changes.
      { structuredContent: { a: { 'x@example.com': 'subscribed' }, b: { 'y@example.com': 7 }, c: { plain: 'kept' }, list: ['z@example.com', 'ok'] } },
      result,
      'confidential',
    );
    expect(out).toEqual({ structuredContent: { a: {}, b: {}, c: { plain: 'kept' }, list: ['ok'] } });
    expect(wire(out)).not.toContain('@example.com');
    expect(report.actions.drop).toBe(3);
  });

  it('deny: the whole message is refused with the types named, never the value', () => {
    const s = make({ actions });
    const pem = secretExamples().find((x) => x.type === 'private_key')!;
    let report: RedactionReport | undefined;
    let error: unknown;
    try {
      s.sanitize(text(`key:\n${pem.text}`), result, { classification: 'secret', report: (r) => (report = r) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutputRefusedError);
    expect((error as OutputRefusedError).code).toBe('sanitize.denied');
    expect((error as OutputRefusedError).reason).toBe('output.denied');
    expect((error as Error).message).toContain('private_key');
    expect((error as Error).message).not.toContain(pem.secret.slice(40, 80));
    expect(report?.outcome).toBe('denied');
    expect(report?.redactions.private_key).toBe(1);
  });

  it('allow: personal data passes for that classification; a held credential never does', () => {
    const s = make({ actions: new ActionTable({ secret: { pii: 'allow', held: 'allow', '*': 'mask' } }) });
    const { out } = run(s, text(`a@example.com ${VAULT}`), result, 'secret');
    expect(wire(out)).toContain('a@example.com');
    expect(wire(out)).not.toContain(VAULT);
  });
});

describe('OutputSanitizer: failure and size', () => {
  it('fails closed when a detector throws: a clear error, the report says why, nothing relayed', () => {
    const s = make();
    vi.spyOn(Engine.prototype, 'scan').mockImplementation(() => {
      throw new Error('detector exploded');
    });
    let report: RedactionReport | undefined;
    let error: unknown;
    try {
      s.sanitize(text(`hello ${VAULT}`), result, { report: (r) => (report = r) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SanitizeError);
    expect((error as SanitizeError).code).toBe('sanitize.failed');
    expect((error as Error).message).toMatch(/withheld a message it could not check/);
    expect(report).toMatchObject({ outcome: 'failed', reason: 'detector_error' });
  });

  it('cuts text past the scan limits before scanning, says so, and never relays the unscanned tail', () => {
    const s = make({ maxScanChars: 1000, maxSegmentChars: 600 });
    const big = `${'a '.repeat(250)}${'b'.repeat(200)} tail ${VAULT} ${AWS}`;
    const { out, report } = run(s, {
      content: [
        { type: 'text', text: big },
        { type: 'text', text: big },
      ],
    });
    const w = wire(out);
    expect(w).not.toContain(VAULT);
    expect(w).not.toContain(AWS);
    expect(w).toContain('[TRUNCATED:');
    const [first, second] = (out as { content: { text: string }[] }).content;
    expect(first!.text.startsWith(big.slice(0, 600))).toBe(true);
    // The message budget counts every string, keys included: 1000 − 600 − 31 (keys and "text" values) = 369.
    expect(second!.text).toBe(`${big.slice(0, 369)} [TRUNCATED: ${big.length - 369} characters past the scan limit]`);
    expect(report.unscannedChars).toBe(2 * big.length - 600 - 369);
  });

  it('decodes base64 resource blobs that hold text, and redacts inside them', () => {
    const s = make();
    const env = `HOME=/root\nAWS_ACCESS_KEY_ID=${AWS}\nDB_PASSWORD=${VAULT}\nADMIN_EMAIL=ops@example.com\n`;
    const { out, report } = run(s, { contents: [{ uri: 'file:///app/.env', mimeType: 'text/plain', blob: Buffer.from(env).toString('base64') }] });
    const blob = (out as { contents: { blob: string }[] }).contents[0]!.blob;
    const decoded = Buffer.from(blob, 'base64').toString('utf8');
    expect(decoded).toBe('HOME=/root\nAWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]\nDB_PASSWORD=[REDACTED:vault]\nADMIN_EMAIL=[REDACTED:email]\n');
    expect(report.redactions).toMatchObject({ aws_access_key: 1, vault: 1, email: 1 });
  });
});
