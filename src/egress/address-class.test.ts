import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress, type AddressClass } from './address-class.js';
import { parseCidr } from './cidr-set.js';
import { EgressGuard } from './egress-guard.js';
import { canonicalAddress, hostAddress, parseIpAddress } from './ip-address.js';

/** Every spelling a URL host can take, and what its bytes are. */
const URL_TABLE: [url: string, cls: AddressClass][] = [
  // IPv4 loopback in every spelling the WHATWG parser accepts
  ['https://127.0.0.1/', 'loopback'],
  ['https://127.0.0.1./', 'loopback'],
  ['https://2130706433/', 'loopback'],
  ['https://0177.0.0.1/', 'loopback'],
  ['https://0x7f.1/', 'loopback'],
  ['https://0x7F000001/', 'loopback'],
  ['https://127.1/', 'loopback'],
  ['https://127.0.1/', 'loopback'],
  ['https://017700000001/', 'loopback'],
  ['https://127.000.000.001/', 'loopback'],
  ['https://127.255.255.254/', 'loopback'],
  ['https://%31%32%37.0.0.1/', 'loopback'],
  ['https://１２７.０.０.１/', 'loopback'],
  // IPv6 loopback and unspecified
  ['https://[::1]/', 'loopback'],
  ['https://[0:0:0:0:0:0:0:1]/', 'loopback'],
  ['https://[0000:0000:0000:0000:0000:0000:0000:0001]:8443/', 'loopback'],
  ['https://[::]/', 'unspecified'],
  ['https://0.0.0.0/', 'unspecified'],
  ['https://0/', 'unspecified'],
  ['https://0.1.2.3/', 'unspecified'],
  // IPv4-mapped, dotted and hex, any case
  ['https://[::ffff:127.0.0.1]/', 'loopback'],
  ['https://[::ffff:7f00:1]/', 'loopback'],
  ['https://[::FFFF:7F00:1]/', 'loopback'],
  ['https://[0:0:0:0:0:ffff:127.0.0.1]/', 'loopback'],
  ['https://[::ffff:10.0.0.1]/', 'private'],
  ['https://[::ffff:169.254.169.254]/', 'metadata'],
  ['https://[::ffff:a9fe:a9fe]/', 'metadata'],
  ['https://[::ffff:0.0.0.0]/', 'unspecified'],
  // IPv4-compatible, translated, NAT64, 6to4, Teredo
  ['https://[::127.0.0.1]/', 'loopback'],
  ['https://[::7f00:1]/', 'loopback'],
  ['https://[::a9fe:a9fe]/', 'metadata'],
  ['https://[::ffff:0:127.0.0.1]/', 'loopback'],
  ['https://[64:ff9b::127.0.0.1]/', 'loopback'],
  ['https://[64:ff9b::7f00:1]/', 'loopback'],
  ['https://[64:ff9b::a9fe:a9fe]/', 'metadata'],
  ['https://[64:ff9b::10.1.2.3]/', 'private'],
  ['https://[64:ff9b:1::808:808]/', 'nat64Local'],
  ['https://[2002:7f00:1::]/', 'loopback'],
  ['https://[2002:a9fe:a9fe::1]/', 'metadata'],
  ['https://[2002:c0a8:101::]/', 'private'],
  ['https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'loopback'], // Teredo client 127.0.0.1 (inverted)
  ['https://[2001:0:a00:1::808:808]/', 'private'], // Teredo server 10.0.0.1
  // Cloud metadata in every form
  ['https://169.254.169.254/', 'metadata'],
  ['https://2852039166/', 'metadata'],
  ['https://0xa9.0xfe.0xa9.0xfe/', 'metadata'],
  ['https://0251.0376.0251.0376/', 'metadata'],
  ['https://169.254.43518/', 'metadata'],
  ['https://[fd00:ec2::254]/', 'metadata'],
  ['https://100.100.100.200/', 'metadata'],
  ['https://169.254.170.2/', 'metadata'],
  ['https://168.63.129.16/', 'metadata'],
  // Other special ranges
  ['https://10.255.0.1/', 'private'],
  ['https://172.16.5.4/', 'private'],
  ['https://172.31.255.255/', 'private'],
  ['https://192.168.0.1/', 'private'],
  ['https://100.64.0.1/', 'carrierGradeNat'],
  ['https://169.254.1.1/', 'linkLocal'],
  ['https://[fe80::1]/', 'linkLocal'],
  ['https://[fec0::1]/', 'siteLocal'],
  ['https://[fc00::1]/', 'uniqueLocal'],
  ['https://[fd12:3456::1]/', 'uniqueLocal'],
  ['https://224.0.0.1/', 'multicast'],
  ['https://[ff02::1]/', 'multicast'],
  ['https://255.255.255.255/', 'broadcast'],
  ['https://240.0.0.1/', 'reserved'],
  ['https://192.0.0.8/', 'reserved'],
  ['https://192.0.2.1/', 'documentation'],
  ['https://198.51.100.7/', 'documentation'],
  ['https://203.0.113.9/', 'documentation'],
  ['https://[2001:db8::1]/', 'documentation'],
  ['https://198.18.0.1/', 'benchmarking'],
  ['https://[2001:2::1]/', 'benchmarking'],
  ['https://[100::1]/', 'reserved'],
  ['https://[4000::1]/', 'reserved'],
  // Public
  ['https://8.8.8.8/', 'public'],
  ['https://134744072/', 'public'],
  ['https://172.32.0.1/', 'public'],
  ['https://100.128.0.1/', 'public'],
  ['https://[2606:4700::1111]/', 'public'],
  ['https://[::ffff:8.8.8.8]/', 'public'],
  ['https://[64:ff9b::808:808]/', 'public'],
  ['https://[2002:808:808::1]/', 'public'],
];

describe('address classes, decided on the bytes of every spelling', () => {
  it.each(URL_TABLE)('%s is %s', (url, cls) => {
    const address = hostAddress(new URL(url));
    expect(address, url).toBeDefined();
    expect(classifyAddress(address!).class).toBe(cls);
    const guard = new EgressGuard({ purpose: 'test' });
    if (cls === 'public') expect(() => guard.assertUrl(new URL(url))).not.toThrow();
    else expect(() => guard.assertUrl(new URL(url))).toThrow(expect.objectContaining({ code: 'egress.address_refused' }));
  });

  it('names are not addresses; the URL parser refuses zone ids and impossible numbers', () => {
    for (const url of ['https://localhost/', 'https://localhost./', 'https://127.0.0.1.nip.io/', 'https://0x7f.example/', 'https://example.com./']) {
      expect(hostAddress(new URL(url)), url).toBeUndefined();
    }
    for (const url of [
      'https://[fe80::1%25eth0]/',
      'https://[fe80::1%eth0]/',
      'https://1.2.3.4.5/',
      'https://256.0.0.1/',
      'https://0x100000000/',
      'https://[::ffff:127.0.0.256]/',
    ]) {
      expect(URL.parse(url), url).toBeNull();
    }
  });

  it('the strict parser takes canonical text only (resolver answers, headers, config)', () => {
    expect(parseIpAddress('127.0.0.1')?.toString()).toBe('127.0.0.1');
    expect(parseIpAddress('[::1]')?.toString()).toBe('::1');
    for (const text of ['0177.0.0.1', '0x7f.0.0.1', '127.1', '2130706433', 'fe80::1%eth0', '', 'localhost', '1.2.3.4:80', ' 1.2.3.4', '[1.2.3.4]']) {
      expect(parseIpAddress(text), text).toBeUndefined();
    }
    expect(canonicalAddress(parseIpAddress('::ffff:7f00:1')!)).toBe('127.0.0.1');
    expect(canonicalAddress(parseIpAddress('2001:DB8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
  });

  it('an allow-list opens exactly its ranges, in mapped form too, and never the metadata or unspecified addresses', () => {
    const guard = new EgressGuard({ purpose: 'test', allowAddresses: ['127.0.0.0/8', '10.1.0.0/16', '0.0.0.0/0', '::/0'] });
    const allowed = (text: string) => guard.check(hostAddress(new URL(text))!).allowed;
    expect(allowed('https://127.0.0.1/')).toBe(true);
    expect(allowed('https://[::ffff:7f00:1]/')).toBe(true);
    expect(allowed('https://10.1.2.3/')).toBe(true);
    expect(allowed('https://169.254.169.254/')).toBe(false);
    expect(allowed('https://[::ffff:a9fe:a9fe]/')).toBe(false);
    expect(allowed('https://0.0.0.0/')).toBe(false);
    expect(allowed('https://[::]/')).toBe(false);
    expect(allowed('https://224.0.0.1/')).toBe(false);
    // NAT64 and 6to4 addresses go to a translator or relay: an IPv4 range does not open them.
    expect(allowed('https://[64:ff9b::a01:203]/')).toBe(true); // 0.0.0.0/0 does not matter: ::/0 is listed
    const v4only = new EgressGuard({ purpose: 'test', allowAddresses: ['10.1.0.0/16'] });
    expect(v4only.check(parseIpAddress('::ffff:10.1.2.3')!).allowed).toBe(true);
    expect(v4only.check(parseIpAddress('64:ff9b::10.1.2.3')!).allowed).toBe(false);
    expect(v4only.check(parseIpAddress('2002:a01:203::1')!).allowed).toBe(false);
    const narrow = new EgressGuard({ purpose: 'test', allowAddresses: ['127.0.0.1/32'] });
    expect(narrow.check(parseIpAddress('127.0.0.1')!).allowed).toBe(true);
    expect(narrow.check(parseIpAddress('127.0.0.2')!).allowed).toBe(false);
    expect(narrow.check(parseIpAddress('::1')!).allowed).toBe(false);
    expect(narrow.check(parseIpAddress('10.0.0.1')!).allowed).toBe(false);
  });

  it('CIDRs in configuration are written canonically', () => {
    expect(parseCidr('10.0.0.0/8')).toBeDefined();
    expect(parseCidr('2001:db8::/32')).toBeDefined();
    expect(parseCidr('127.0.0.1')).toBeDefined();
    expect(parseCidr('::ffff:10.0.0.0/104')?.[1]).toBe(8);
    for (const bad of ['0x7f.1/8', '10.0.0.0/33', '10.0.0.0/', '10/8', '::/129', '[::1]/128', 'fe80::1%eth0/64', 'localhost'])
      expect(parseCidr(bad), bad).toBeUndefined();
  });
});

/** Every way to write an IPv4 address in a URL host or inside an IPv6 address. */
function encodings(value: number): string[] {
  const o = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff] as const;
  const hex16 = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  const inv = (~value >>> 0) >>> 0;
  return [
    o.join('.'),
    String(value),
    `0x${value.toString(16)}`,
    `0${value.toString(8)}`,
    o.map((x) => `0${x.toString(8)}`).join('.'),
    o.map((x) => `0x${x.toString(16)}`).join('.'),
    `${o[0]}.${(value & 0xffffff) >>> 0}`,
    `${o[0]}.${o[1]}.${value & 0xffff}`,
    `${o.join('.')}.`,
    `[::ffff:${o.join('.')}]`,
    `[::ffff:${hex16(o[0], o[1])}:${hex16(o[2], o[3])}]`,
    `[::FFFF:${hex16(o[0], o[1]).toUpperCase()}:${hex16(o[2], o[3]).toUpperCase()}]`,
    `[0:0:0:0:0:ffff:${o.join('.')}]`,
    `[::${o.join('.')}]`,
    `[::ffff:0:${o.join('.')}]`,
    `[64:ff9b::${o.join('.')}]`,
    `[64:ff9b::${hex16(o[0], o[1])}:${hex16(o[2], o[3])}]`,
    `[2002:${hex16(o[0], o[1])}:${hex16(o[2], o[3])}::1]`,
    `[2001:0:808:808:0:0:${(inv >>> 16).toString(16)}:${(inv & 0xffff).toString(16)}]`,
  ];
}

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
];

describe('property: an IPv4 address in a blocked range is blocked in every encoding', () => {
  it('random addresses, random ranges, every encoding', () => {
    const guard = new EgressGuard({ purpose: 'test' });
    const blockedAddress = fc.tuple(fc.constantFrom(...BLOCKED_V4), fc.integer({ min: 0, max: 0xffffffff })).map(([[base, bits], random]) => {
      const b = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
      const hostMask = bits === 0 ? 0xffffffff : 2 ** (32 - bits) - 1;
      return (b + (random & hostMask)) >>> 0;
    });
    fc.assert(
      fc.property(blockedAddress, fc.nat(), (value, pick) => {
        const forms = encodings(value);
        const form = forms[pick % forms.length] as string;
        const url = URL.parse(`https://${form}:8443/x`);
        expect(url, form).not.toBeNull();
        const address = hostAddress(url!);
        expect(address, form).toBeDefined();
        expect(guard.check(address!).allowed, form).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('and a public address stays public in its embedded forms (no over-blocking of real hosts)', () => {
    const guard = new EgressGuard({ purpose: 'test' });
    for (const form of encodings(0x08080808)) {
      expect(guard.check(hostAddress(new URL(`https://${form}/`))!).allowed, form).toBe(true);
    }
  });
});
