import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Synchronizer tokens for console forms: HMAC-SHA256 over the session id and the form's
 * purpose, under a key that lives only in this process. A token from another session, for
 * another form, or from before a restart does not verify.
 */
export class CsrfTokens {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  issue(sessionId: string, purpose: string): string {
    return createHmac('sha256', this.#key).update(`${sessionId}\n${purpose}`).digest('base64url');
  }

  verify(sessionId: string, purpose: string, token: unknown): boolean {
    if (typeof token !== 'string' || token.length === 0 || token.length > 100) return false;
    const expected = Buffer.from(this.issue(sessionId, purpose));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
