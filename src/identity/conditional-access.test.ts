import { describe, expect, it } from 'vitest';
import { ConditionalAccess } from './conditional-access.js';
import { isCidr, NetworkSet } from './networks.js';

describe('networks', () => {
  it('parses CIDRs and matches IPv4, IPv6 and IPv4-mapped addresses', () => {
    expect(isCidr('10.0.0.0/8')).toBe(true);
    expect(isCidr('10.0.0.0/33')).toBe(false);
    expect(isCidr('nope/8')).toBe(false);
    expect(isCidr('012.0.0.0/8')).toBe(false);
    expect(isCidr('fe80::1%eth0/64')).toBe(false);
    const set = new NetworkSet(['10.0.0.0/8', '2001:db8::/32', '127.0.0.1']);
    expect(set.has('10.1.2.3')).toBe(true);
    expect(set.has('::ffff:10.1.2.3')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('2001:db8::1')).toBe(true);
    expect(set.has('127.0.0.1')).toBe(true);
    expect(set.has(undefined)).toBe(false);
    // Decided on the bytes: the hex form of a mapped address matches too; other spellings are not addresses.
    expect(set.has('::ffff:a01:203')).toBe(true);
    expect(set.has('::FFFF:10.1.2.3')).toBe(true);
    expect(set.has('012.1.2.3')).toBe(false);
    expect(set.has('fe80::1%eth0')).toBe(false);
  });
});

describe('ConditionalAccess', () => {
  const access = new ConditionalAccess({
    '*': { mfa: false, maxSessionAge: 8 * 3600_000 },
    admins: { mfa: true, networks: ['10.0.0.0/8'], maxSessionAge: 3600_000 },
    finance: { mfa: false, networks: ['10.5.0.0/16'] },
  });

  it('applies the strictest combination of every rule that applies', () => {
    const req = access.requirements(['admins', 'finance']);
    expect(req.mfa).toBe(true);
    expect(req.maxSessionAgeMs).toBe(3600_000);
    expect(req.networks.map((n) => n.group)).toEqual(['admins', 'finance']);
    expect(access.requirements(['eng'])).toMatchObject({ mfa: false, maxSessionAgeMs: 8 * 3600_000, networks: [] });
  });

  it('refuses with a stable code and a message that names the rule, not the address', () => {
    const now = 10_000_000;
    expect(access.check(['admins'], { ip: '10.1.1.1', mfa: true, authTime: now }, now)).toBeUndefined();
    expect(access.check(['admins'], { ip: '10.1.1.1', mfa: false, authTime: now }, now)?.code).toBe('identity.mfa_required');
    const net = access.check(['admins', 'finance'], { ip: '10.1.1.1', mfa: true, authTime: now }, now);
    expect(net).toMatchObject({ code: 'identity.network_not_allowed' });
    expect(net?.message).not.toContain('10.1.1.1');
    expect(access.check(['admins'], { ip: '10.1.1.1', mfa: true, authTime: now - 3600_001 }, now)?.code).toBe('identity.session_too_old');
    expect(access.check(['eng'], { ip: '1.2.3.4', mfa: false, authTime: now }, now)).toBeUndefined();
  });
});
