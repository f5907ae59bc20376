import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens for the pages: HMAC(key, binding), where the binding is the interaction uid or
 * the sign-in session id, both of which live only in the browser's HttpOnly cookie. A
 * cross-site page can neither read the cookie nor compute the token.
 */
export class Csrf {
  readonly #key: Buffer;
  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  token(binding: string): string {
    return createHmac('sha256', this.#key).update(`gatehouse-csrf:${binding}`).digest('base64url');
  }

  verify(binding: string, presented: unknown): boolean {
    if (typeof presented !== 'string' || presented.length === 0) return false;
    const expected = Buffer.from(this.token(binding));
    const actual = Buffer.from(presented);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
