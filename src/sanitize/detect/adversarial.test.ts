// Every detector on adversarial 1 MB inputs, with 1,000 held values loaded: each scan must
// finish within a generous bound (1 s). The bound is on this process's CPU time, so other
// work on a shared machine does not make the test flaky; wall time is printed alongside.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { HeldValues } from './held-values.js';

const MB = 1 << 20;
const BOUND_MS = 1000;

function fill(unit: string, size = MB): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function soup(alphabet: string, size = MB, seed = 1): string {
  let s = seed;
  let out = '';
  const chunk: string[] = [];
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    chunk.push(alphabet[(s >>> 16) % alphabet.length]!);
    if (chunk.length === 8192) {
      out += chunk.join('');
      chunk.length = 0;
    }
  }
  return out + chunk.join('');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const INPUTS: [string, () => string][] = [
  ['long digit run', () => fill('7')],
  ['digits and single separators', () => fill('1 ')],
  [
    'phone-shaped numbers, all distinct',
    () =>
      Array.from({ length: 70_000 }, (_, i) => `+1 415 ${String(200 + (i % 800))} ${String(i % 10_000).padStart(4, '0')}`)
        .join('\n')
        .slice(0, MB),
  ],
  ['card-shaped groups', () => fill('4111 ')],
  ['dotted quads', () => fill('1.1.1.1.')],
  ['@@@@', () => fill('@')],
  ['aaaa@aaaa@', () => fill('aaaa@')],
  ['local part then a long domain', () => fill(`${'a'.repeat(60)}@${'b.'.repeat(200)}c`)],
  ['eyJ repeated', () => fill('eyJ')],
  ['eyJ runs ending in a dot', () => fill(`${'eyJ'.repeat(1300)}.`)],
  ['-----BEGIN repeated', () => fill('-----BEGIN')],
  ['PEM headers with header lines', () => fill('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: x\n')],
  ['an unterminated PEM body', () => `-----BEGIN PRIVATE KEY-----\n${soup(`${B64}\n`, MB - 28)}`],
  ['base64 soup', () => soup(B64)],
  ['base64url soup with dots', () => soup(`${B64.slice(0, 62)}-_.`)],
  ['::::', () => fill(':')],
  ['hex and colons', () => soup('0123456789abcdef:')],
  ['IBAN-shaped', () => fill('DE89 3704 ')],
  ['SSN-shaped', () => fill('123-45-')],
  ['URLs with credentials', () => fill('https://user:pass@')],
  ['://', () => fill('://')],
  ['secret_access_key =', () => fill('aws_secret_access_key = ')],
  ['account_id:', () => fill('account_id: ')],
  ['slack token list', () => `xoxb-${fill('a1-', MB - 5)}`],
  ['_authToken=', () => fill('_authToken=')],
  ['ghs_ app tokens', () => fill(`ghs_1_${'a'.repeat(900)}.`)],
  ['SG. keys', () => fill(`SG.${'a'.repeat(128)}.`)],
  ['mixed anchors', () => fill('AKIA ghp_ xoxb- sk_live_ glpat- SG. hf_ npm_ ops_ey dapi figd_ T3BlbkFJ -----BEGIN ')],
  ['invisible characters everywhere', () => fill('a\u200b')],
  ['tag characters everywhere', () => fill(String.fromCodePoint(0xe0061))],
];

describe('adversarial 1 MB inputs', () => {
  const held = new HeldValues();
  for (let i = 0; i < 999; i++) held.add(randomBytes(24).toString('base64'));
  // A held value built to stress the automaton's failure links.
  held.add(`${'a'.repeat(40)}b`);
  const engine = new Engine({ held });
  engine.scan(['warm-up bob@example.com 4111111111111111']);

  for (const [name, make] of INPUTS) {
    it(`${name}: every detector within ${BOUND_MS} ms of CPU`, () => {
      const input = make();
      expect(input.length).toBeGreaterThanOrEqual(MB - 64);
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const result = engine.scan([input]);
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      console.log(`${name}: ${cpuMs.toFixed(0)} ms CPU, ${(performance.now() - wall).toFixed(0)} ms wall, ${result.findings.length} findings`);
      expect(result.capped).toBe(false);
      expect(cpuMs).toBeLessThan(BOUND_MS);
    }, 60_000);
  }

  it('the same inputs split into many segments', () => {
    const input = fill('aaaa@b.co 4111 ');
    const segments = input.match(/.{1,16}/gs) ?? [];
    const cpu = process.cpuUsage();
    engine.scan(segments);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(BOUND_MS);
  }, 60_000);
});
