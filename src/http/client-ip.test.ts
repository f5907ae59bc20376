import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientIpFrom, parseForwarded, trustedProxySet, type ClientIpInput } from './client-ip.js';

const PROXY = ['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8'];

const cases: [name: string, input: ClientIpInput, trusted: string[], expected: string | undefined][] = [
  // No trusted proxies: headers never matter
  ['no setting: peer, header ignored', { peer: '127.0.0.1', xForwardedFor: '203.0.113.9' }, [], '127.0.0.1'],
  ['no setting: Forwarded ignored', { peer: '198.51.100.1', forwarded: 'for=203.0.113.9' }, [], '198.51.100.1'],
  ['mapped peer becomes IPv4', { peer: '::ffff:127.0.0.1' }, [], '127.0.0.1'],
  ['IPv6 peer in one canonical form', { peer: '2001:DB8:0:0:0:0:0:1' }, [], '2001:db8::1'],
  ['no peer at all', { peer: undefined, xForwardedFor: '203.0.113.9' }, PROXY, undefined],
  // Spoofing from an untrusted peer
  ['untrusted peer: X-Forwarded-For ignored', { peer: '198.51.100.7', xForwardedFor: '10.1.2.3' }, PROXY, '198.51.100.7'],
  ['untrusted peer: Forwarded ignored', { peer: '198.51.100.7', forwarded: 'for=10.1.2.3' }, PROXY, '198.51.100.7'],
  ['untrusted mapped peer stays untrusted', { peer: '::ffff:198.51.100.7', xForwardedFor: '10.1.2.3' }, PROXY, '198.51.100.7'],
  // A trusted peer
  ['trusted peer: X-Forwarded-For', { peer: '127.0.0.1', xForwardedFor: '203.0.113.9' }, PROXY, '203.0.113.9'],
  ['trusted mapped peer (::ffff:127.0.0.1) is matched as IPv4', { peer: '::ffff:127.0.0.1', xForwardedFor: '203.0.113.9' }, PROXY, '203.0.113.9'],
  ['trusted peer: Forwarded', { peer: '127.0.0.1', forwarded: 'for=203.0.113.9;proto=https;by=10.0.0.1' }, PROXY, '203.0.113.9'],
  ['Forwarded: quoted IPv4 with port', { peer: '127.0.0.1', forwarded: 'for="203.0.113.9:47011"' }, PROXY, '203.0.113.9'],
  ['Forwarded: quoted bracketed IPv6 with port', { peer: '127.0.0.1', forwarded: 'For="[2001:db8:cafe::17]:4711"' }, PROXY, '2001:db8:cafe::17'],
  ['Forwarded: quoted bracketed IPv6', { peer: '127.0.0.1', forwarded: 'for="[2001:db8:cafe::17]"' }, PROXY, '2001:db8:cafe::17'],
  ['X-Forwarded-For with port and bracketed IPv6', { peer: '127.0.0.1', xForwardedFor: '[2001:db8::9]:443' }, PROXY, '2001:db8::9'],
  ['X-Forwarded-For with IPv4 port', { peer: '127.0.0.1', xForwardedFor: '203.0.113.9:5555' }, PROXY, '203.0.113.9'],
  ['X-Forwarded-For with a mapped entry', { peer: '127.0.0.1', xForwardedFor: '::ffff:203.0.113.9' }, PROXY, '203.0.113.9'],
  // Chains: walk from the right, skip trusted proxies
  ['chain: client spoofs a leftmost entry', { peer: '127.0.0.1', xForwardedFor: '10.9.9.9, 203.0.113.9' }, PROXY, '203.0.113.9'],
  ['chain: two trusted proxies', { peer: '127.0.0.1', xForwardedFor: '203.0.113.9, 10.0.0.5' }, PROXY, '203.0.113.9'],
  ['chain: spoofed entries left of the real client', { peer: '10.0.0.2', xForwardedFor: '1.1.1.1, 10.0.0.9, 203.0.113.9, 10.0.0.5' }, PROXY, '203.0.113.9'],
  ['chain: Forwarded elements', { peer: '10.0.0.2', forwarded: 'for=1.1.1.1, for=203.0.113.9, for="[fd00::1]"' }, PROXY, '203.0.113.9'],
  ['chain: all hops trusted gives the leftmost', { peer: '127.0.0.1', xForwardedFor: '10.0.0.7, 10.0.0.5' }, PROXY, '10.0.0.7'],
  ['chain: garbage left of the real client is never reached', { peer: '127.0.0.1', xForwardedFor: 'garbage, , 203.0.113.9' }, PROXY, '203.0.113.9'],
  ['multiple header lines joined', { peer: '127.0.0.1', xForwardedFor: '1.1.1.1, 203.0.113.9, 10.0.0.5' }, PROXY, '203.0.113.9'],
  // Malformed: fall back to the peer, never throw
  ['malformed X-Forwarded-For', { peer: '127.0.0.1', xForwardedFor: 'not-an-ip' }, PROXY, '127.0.0.1'],
  ['empty X-Forwarded-For', { peer: '127.0.0.1', xForwardedFor: '' }, PROXY, '127.0.0.1'],
  ['octal X-Forwarded-For is not an address', { peer: '127.0.0.1', xForwardedFor: '0177.0.0.1' }, PROXY, '127.0.0.1'],
  ['X-Forwarded-For with a zone id', { peer: '127.0.0.1', xForwardedFor: 'fe80::1%eth0' }, PROXY, '127.0.0.1'],
  ['Forwarded: unterminated quote', { peer: '127.0.0.1', forwarded: 'for="203.0.113.9' }, PROXY, '127.0.0.1'],
  [
    'Forwarded: an unbracketed IPv6 is read whole (a ":80" is part of the address)',
    { peer: '127.0.0.1', forwarded: 'for="2001:db8::1:80"' },
    PROXY,
    '2001:db8::1:80',
  ],
  ['Forwarded: obfuscated identifier', { peer: '127.0.0.1', forwarded: 'for=_hidden' }, PROXY, '127.0.0.1'],
  ['Forwarded: unknown', { peer: '127.0.0.1', forwarded: 'for=unknown' }, PROXY, '127.0.0.1'],
  ['Forwarded: element without for', { peer: '127.0.0.1', forwarded: 'proto=https' }, PROXY, '127.0.0.1'],
  ['Forwarded: for twice in one element', { peer: '127.0.0.1', forwarded: 'for=1.1.1.1;for=203.0.113.9' }, PROXY, '127.0.0.1'],
  ['Forwarded: trailing comma', { peer: '127.0.0.1', forwarded: 'for=203.0.113.9,' }, PROXY, '127.0.0.1'],
  ['Forwarded: junk after value', { peer: '127.0.0.1', forwarded: 'for=203.0.113.9 junk' }, PROXY, '127.0.0.1'],
  ['Forwarded: bad port', { peer: '127.0.0.1', forwarded: 'for="203.0.113.9:99999"' }, PROXY, '127.0.0.1'],
  ['a header longer than 8 KB', { peer: '127.0.0.1', xForwardedFor: `${'1.1.1.1, '.repeat(1000)}203.0.113.9` }, PROXY, '127.0.0.1'],
  // Both headers: they must agree, or there is no address (never the proxy's own)
  ['both headers agree', { peer: '127.0.0.1', forwarded: 'for=203.0.113.9', xForwardedFor: '203.0.113.9' }, PROXY, '203.0.113.9'],
  ['both headers, client forged Forwarded', { peer: '127.0.0.1', forwarded: 'for=10.1.1.1', xForwardedFor: '203.0.113.9' }, PROXY, undefined],
  ['both headers, client forged X-Forwarded-For', { peer: '127.0.0.1', forwarded: 'for=203.0.113.9', xForwardedFor: '10.1.1.1' }, PROXY, undefined],
  [
    'both headers, client sent a malformed one to fall back to the proxy',
    { peer: '127.0.0.1', forwarded: 'for=unknown', xForwardedFor: '203.0.113.9' },
    PROXY,
    undefined,
  ],
];

describe('client IP', () => {
  it.each(cases)('%s', (_name, input, trusted, expected) => {
    expect(clientIpFrom(input, trustedProxySet(trusted))).toBe(expected);
  });

  it('parses RFC 7239 examples', () => {
    expect(parseForwarded('for="_gazonk"')).toHaveLength(1);
    const hops = parseForwarded('for=192.0.2.43, for=198.51.100.17');
    expect(hops !== 'malformed' && hops.map((h) => h.toString())).toEqual(['192.0.2.43', '198.51.100.17']);
    const quoted = parseForwarded('for="\\"[2001:db8::1]\\""');
    expect(quoted !== 'malformed' && quoted[0]).toBeUndefined();
  });

  it('never throws on any header, and an untrusted peer always wins', () => {
    const trusted = trustedProxySet(PROXY);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (forwarded, xff) => {
        expect(() => clientIpFrom({ peer: '127.0.0.1', forwarded, xForwardedFor: xff }, trusted)).not.toThrow();
        expect(clientIpFrom({ peer: '198.51.100.7', forwarded, xForwardedFor: xff }, trusted)).toBe('198.51.100.7');
      }),
      { numRuns: 1000 },
    );
  });

  it('a result is never a trusted proxy unless every hop was one (spoofing cannot pick a trusted address)', () => {
    const trusted = trustedProxySet(PROXY);
    const entry = fc.oneof(fc.ipV4(), fc.constantFrom('10.0.0.5', '127.0.0.1', 'garbage', ''));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.ipV4(), (spoofed, client) => {
        fc.pre(!client.startsWith('10.') && !client.startsWith('127.'));
        const header = [...spoofed, client].join(', ');
        expect(clientIpFrom({ peer: '10.0.0.1', xForwardedFor: header }, trusted)).toBe(client);
      }),
      { numRuns: 500 },
    );
  });
});
