import type { Principal } from '../tokens/index.js';

export interface TimeFacts {
  hour: number;
  minute: number;
  /** `mon` … `sun`. */
  weekday: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  day: number;
  /** `YYYY-MM-DD` in the zone. */
  date: string;
  zone: string;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();
const cache = new Map<string, { minute: number; facts: TimeFacts }>();

/** Throws RangeError for a zone name the runtime does not know. */
export function checkTimeZone(zone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone: zone });
}

/** Wall-clock facts in `zone` (IANA name). Computed once per minute per zone. */
export function timeFacts(now: number, zone: string): TimeFacts {
  const minute = Math.floor(now / 60_000);
  const hit = cache.get(zone);
  if (hit && hit.minute === minute) return hit.facts;
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(zone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(minute * 60_000))) parts[part.type] = part.value;
  const weekday = (parts.weekday ?? 'Mon').slice(0, 3).toLowerCase();
  const facts: TimeFacts = {
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday,
    day: WEEKDAYS.indexOf(weekday) + 1,
    date: `${parts.year}-${parts.month}-${parts.day}`,
    zone,
  };
  cache.set(zone, { minute, facts });
  return facts;
}

/** RFC 8176 authentication method references that are a second factor (or phishing-resistant key). */
const SECOND_FACTORS = new Set(['mfa', 'otp', 'totp', 'hwk', 'sms', 'tel', 'sc', 'fido', 'webauthn', 'fpt', 'face', 'iris', 'retina', 'vbm']);

export interface MfaFacts {
  verified: boolean;
  /** Seconds since the second factor was presented, when known. */
  ageSeconds?: number;
  methods: string[];
}

/**
 * MFA facts from the token, read defensively: `amr` (RFC 8176) says which methods were used,
 * `mfa_time` or else `auth_time` (seconds) says when. Anything malformed counts as no MFA.
 */
export function mfaFacts(principal: Principal, now: number): MfaFacts {
  const claims = principal.claims;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string' && m.length <= 32).slice(0, 16) : [];
  const verified = amr.some((m) => SECOND_FACTORS.has(m.toLowerCase()));
  const at = typeof claims.mfa_time === 'number' ? claims.mfa_time : typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const facts: MfaFacts = { verified, methods: amr };
  if (verified && at !== undefined && Number.isFinite(at)) {
    const age = Math.floor(now / 1000 - at);
    // A time in the future (beyond clock skew) is not believable: leave the age unknown.
    if (age >= -60) facts.ageSeconds = Math.max(0, age);
  }
  return facts;
}
