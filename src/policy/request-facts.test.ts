import { describe, expect, it } from 'vitest';
import { principal } from '../../test/helpers/policy-fixtures.js';
import { mfaFacts, timeFacts } from './request-facts.js';

describe('timeFacts', () => {
  it('gives wall-clock facts in the zone, with ISO weekday numbers', () => {
    const t = Date.UTC(2025, 0, 5, 23, 30); // Sunday 23:30 UTC = Monday 00:30 in Berlin
    expect(timeFacts(t, 'UTC')).toEqual({ hour: 23, minute: 30, weekday: 'sun', day: 7, date: '2025-01-05', zone: 'UTC' });
    expect(timeFacts(t, 'Europe/Berlin')).toEqual({ hour: 0, minute: 30, weekday: 'mon', day: 1, date: '2025-01-06', zone: 'Europe/Berlin' });
  });
});

describe('mfaFacts', () => {
  const now = Date.UTC(2025, 0, 7, 10);
  const at = (claims: Record<string, unknown>) => mfaFacts(principal('a', [], claims), now);

  it('counts a second factor from amr, aged from mfa_time or else auth_time', () => {
    expect(at({ amr: ['pwd', 'otp'], auth_time: now / 1000 - 300 })).toEqual({ verified: true, ageSeconds: 300, methods: ['pwd', 'otp'] });
    expect(at({ amr: ['hwk'], auth_time: now / 1000 - 3600, mfa_time: now / 1000 - 60 })).toMatchObject({ verified: true, ageSeconds: 60 });
  });

  it('reads defensively: no second factor, malformed claims and future times give no age', () => {
    expect(at({ amr: ['pwd'], auth_time: now / 1000 - 5 })).toEqual({ verified: false, methods: ['pwd'] });
    expect(at({ amr: 'otp', auth_time: now / 1000 })).toEqual({ verified: false, methods: [] });
    expect(at({ amr: ['otp'], auth_time: 'yesterday' })).toEqual({ verified: true, methods: ['otp'] });
    expect(at({ amr: ['otp'], auth_time: now / 1000 + 3600 })).toEqual({ verified: true, methods: ['otp'] });
    expect(at({})).toEqual({ verified: false, methods: [] });
  });
});
