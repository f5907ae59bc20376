import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { PII_KINDS, scanPii, type PiiKind } from './pii-scan.js';
import { luhn } from './pii-numbers.js';

function found(text: string, kind: PiiKind, region: 'US' | 'GB' | 'DE' = 'US'): string[] {
  const out: string[] = [];
  scanPii(text, { kinds: new Set([kind]), phoneRegion: region }, (_t, s, e) => out.push(text.slice(s, e)));
  return out;
}

function types(text: string): string[] {
  const out: string[] = [];
  scanPii(text, { kinds: new Set(PII_KINDS), phoneRegion: 'US' }, (t) => out.push(t));
  return out;
}

describe('email', () => {
  it('finds practical addresses, whole', () => {
    for (const email of [
      'alice@example.com',
      'Bob.Smith+tag@mail.example.co.uk',
      "o'reilly@example.org",
      'x_y-z%1@sub-domain.example.travel',
      'user@xn--bcher-kva.example',
    ]) {
      expect(found(`Contact: <${email}>.`, 'email'), email).toEqual([email]);
    }
    expect(found('mailto:alice@example.com?subject=hi', 'email')).toEqual(['alice@example.com']);
    expect(found('alice@example.com.', 'email')).toEqual(['alice@example.com']);
  });

  it('spares look-alikes', () => {
    for (const text of [
      'npm i @types/node@20.1.0',
      '"@scope/pkg": "^1.2.3"',
      'docker pull nginx@sha256:0123abcd',
      '@app.route("/x")',
      'user@localhost',
      'assets/icon@2x.png and logo@3x.webp',
      'git@github.com:acme/app.git',
      'a..b@example.com',
      '.alice@example',
      'alice@-example.com',
      'alice@example.c0m',
      `${'a'.repeat(65)}@example.com`,
      '@@@@',
    ]) {
      expect(found(text, 'email'), text).toEqual([]);
    }
  });
});

describe('phone', () => {
  it('finds valid numbers in common formats, with the default region for national ones', () => {
    expect(found('Call +1 415-555-2671 today', 'phone')).toEqual(['+1 415-555-2671']);
    expect(found('Office: (415) 555-2671', 'phone')).toEqual(['(415) 555-2671']);
    expect(found('cell 415.555.2671', 'phone')).toEqual(['415.555.2671']);
    expect(found('tel: 4155552671', 'phone')).toEqual(['4155552671']);
    expect(found('London +44 20 7946 0958.', 'phone')).toEqual(['+44 20 7946 0958']);
    expect(found('Berlin +49 30 901820', 'phone')).toEqual(['+49 30 901820']);
    expect(found('ruf an: 030 901820', 'phone', 'DE')).toEqual([]); // no phone word, two groups
    expect(found('Tel. 030 901820', 'phone', 'DE')).toEqual(['030 901820']);
    expect(found('020 7946 0958', 'phone', 'GB')).toEqual(['020 7946 0958']);
    // Shorter readings when what follows is another number.
    expect(found('Call +1 415-555-2671 24/7', 'phone')).toEqual(['+1 415-555-2671']);
    expect(found('+1 415-555-2671 203.0.113.7', 'phone')).toEqual(['+1 415-555-2671']);
  });

  it('reports phone-shaped candidates unvalidated once the validation budget is spent', () => {
    // Area code 123 is invalid: validated, none is reported; past the budget all are.
    const text = Array.from({ length: 30 }, (_, i) => `+1 123-456-${String(7000 + i)}`).join(', ');
    expect(new Engine({ detectors: { held: false, secret: false }, pii: ['phone'] }).scan([text]).findings).toEqual([]);
    const budgeted = new Engine({ detectors: { held: false, secret: false }, pii: ['phone'], phoneValidations: 5 });
    const { findings } = budgeted.scan([text]);
    // Each number takes two validations (the whole, then `+1 123-456`): two numbers are
    // validated, the third runs out mid-way, the other 28 are reported.
    expect(findings).toHaveLength(28);
    expect(findings.every((f) => text.slice(f.start, f.end).startsWith('+1 123-456'))).toBe(true);
    // The budget is per scan.
    expect(budgeted.scan([text]).findings).toHaveLength(28);
  });

  it('spares numbers that are not phone numbers', () => {
    for (const text of [
      'order 4155552671 shipped', // bare digits, no phone word
      'epoch 1700000000000',
      '2024-01-15',
      '15.01.2024',
      '01/15/2024',
      '192.168.10.200',
      'v1.2.3',
      '+1 555-0100', // too short
      'Call +1 123-456-7890', // area code 123 is not valid
      'tel 000-000-0000',
      'id 4155552671x',
    ]) {
      expect(found(text, 'phone'), text).toEqual([]);
    }
  });
});

describe('ip', () => {
  it('finds IPv4 and IPv6 addresses', () => {
    expect(found('from 203.0.113.7 port 22', 'ip')).toEqual(['203.0.113.7']);
    expect(found('host=10.0.0.12:8080', 'ip')).toEqual(['10.0.0.12']);
    expect(found('http://198.51.100.23/path', 'ip')).toEqual(['198.51.100.23']);
    expect(found('range 10.0.0.1-10.0.0.9', 'ip')).toEqual(['10.0.0.1', '10.0.0.9']);
    expect(found('2001:db8::8a2e:370:7334 and fe80::1ff:fe23:4567:890a.', 'ip')).toEqual(['2001:db8::8a2e:370:7334', 'fe80::1ff:fe23:4567:890a']);
    expect(found('[2001:db8:85a3::8a2e:370:7334]:443', 'ip')).toEqual(['2001:db8:85a3::8a2e:370:7334']);
    expect(found('::ffff:192.0.2.128', 'ip')).toContain('::ffff:192.0.2.128');
  });

  it('spares versions, unspecified, loopback and broadcast addresses, and code', () => {
    for (const text of [
      'v1.2.3.4',
      'version 1.2.3.4',
      'Version: 10.0.19041.1',
      'pkg@1.2.3.4',
      'Chrome/120.0.0.0 Safari',
      '1.2.3.4.5',
      'x.1.2.3.4',
      '256.1.1.1',
      '01.02.03.04',
      '0.0.0.0',
      '127.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'std::vector<Foo::Bar>',
      'a::b',
      'arr[1::2]',
      '12:30:45',
      '00:1a:2b:3c:4d:5e',
      'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
      '1.2.3',
    ]) {
      expect(found(text, 'ip'), text).toEqual([]);
    }
  });
});

describe('card', () => {
  it('checks Luhn', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
  });

  it('finds valid card numbers of known brands, plain or grouped as the brand groups them', () => {
    expect(found('card 4111111111111111 exp 12/29', 'card')).toEqual(['4111111111111111']);
    expect(found('4111 1111 1111 1111', 'card')).toEqual(['4111 1111 1111 1111']);
    expect(found('5555-5555-5555-4444', 'card')).toEqual(['5555-5555-5555-4444']);
    expect(found('amex 3782 822463 10005', 'card')).toEqual(['3782 822463 10005']);
    expect(found('6011111111111117', 'card')).toEqual(['6011111111111117']);
  });

  it('spares Luhn failures, unknown brands, odd groupings, ids and long runs', () => {
    for (const text of [
      '4111111111111112',
      '1234567812345670', // Luhn-valid, no brand starts with 1
      '4111 11 1111 1111 111', // not grouped like a card
      '4111-1111 1111-1111', // mixed separators
      '41111111111111110000', // 20 digits
      '1745123456789012345', // snowflake id
      'id: 4111111111111111a',
      'v4111111111111111',
      '12345',
    ]) {
      expect(found(text, 'card'), text).toEqual([]);
    }
  });
});

describe('iban', () => {
  it('finds valid IBANs, with or without spaces', () => {
    expect(found('IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX', 'iban')).toEqual(['DE89 3704 0044 0532 0130 00']);
    expect(found('DE89370400440532013000', 'iban')).toEqual(['DE89370400440532013000']);
    expect(found('pay to GB82 WEST 1234 5698 7654 32 now', 'iban')).toEqual(['GB82 WEST 1234 5698 7654 32']);
    expect(found('FR1420041010050500013M02606', 'iban')).toEqual(['FR1420041010050500013M02606']);
    expect(found('NL91ABNA0417164300', 'iban')).toEqual(['NL91ABNA0417164300']);
  });

  it('spares wrong check digits, wrong lengths and unknown countries', () => {
    for (const text of [
      'DE89 3704 0044 0532 0130 01',
      'DE8937040044053201300',
      'XX89370400440532013000',
      'ABDE89370400440532013000',
      'GB82 WEST 1234 5698 7654 3',
    ]) {
      expect(found(text, 'iban'), text).toEqual([]);
    }
  });
});

describe('ssn', () => {
  it('finds dashed US SSNs', () => {
    expect(found('SSN: 123-45-6789.', 'ssn')).toEqual(['123-45-6789']);
    expect(found('ssn=536-22-1234', 'ssn')).toEqual(['536-22-1234']);
  });

  it('spares invalid areas, groups and serials, the advertising numbers, and undashed or embedded forms', () => {
    for (const text of [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-12-3456',
      '123-00-4567',
      '123-45-0000',
      '078-05-1120',
      '219-09-9999',
      '123456789',
      'A123-45-6789',
      '2024-123-45-6789',
      '123-45-6789-1',
      '123-45-67890',
    ]) {
      expect(found(text, 'ssn'), text).toEqual([]);
    }
  });
});

describe('scanPii', () => {
  it('reports every kind in one text', () => {
    expect(types('alice@example.com, +1 415-555-2671, 203.0.113.7, 4111111111111111, DE89370400440532013000, 123-45-6789').sort()).toEqual(
      ['credit_card', 'email', 'iban', 'ip_address', 'phone', 'ssn'].sort(),
    );
  });
});
