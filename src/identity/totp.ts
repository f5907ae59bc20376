import { Secret, TOTP } from 'otpauth';

/** RFC 6238 TOTP with the parameters every authenticator app supports: SHA-1, 6 digits, 30 s. */
const PERIOD = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI authenticator apps import (shown for manual entry; no QR image is fetched). */
export function totpUri(secret: string, account: string, issuer: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secret), period: PERIOD }).toString();
}

/**
 * Checks a code with one step of clock drift either way and returns the time step it matched,
 * or undefined. A step at or before `lastStep` is refused: RFC 6238 §5.2 says a verifier MUST
 * NOT accept the second attempt of the same OTP.
 */
export function verifyTotp(secret: string, code: string, lastStep: number | null, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secret), period: PERIOD, window: 1, timestamp: now });
  if (delta === null) return undefined;
  const step = TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
  if (lastStep !== null && step <= lastStep) return undefined;
  return step;
}

/** The current code (tests and the enrollment self-check). */
export function currentTotp(secret: string, now = Date.now()): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), period: PERIOD, timestamp: now });
}
