import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Longer than any token this class issues (43 characters): refused before any hashing. */
const MAX_TOKEN_LENGTH = 100;

/**
 * CSRF tokens for every HTML form (sign-in pages, account page, approvals console):
 * HMAC-SHA256(key, binding), where the binding names something only the browser's HttpOnly
 * cookie carries (the interaction uid, the sign-in session id, a console session and form). A
 * cross-site page can neither read the cookie nor compute the token; the key lives only in this
 * process, so a token from before a restart does not verify either.
 */
export class Csrf {
  readonly #key: Buffer;
  readonly #label: string;

  /** `label` separates the token spaces of forms that could share a key. */
  constructor(key: Buffer = randomBytes(32), label = 'gatehouse-csrf:') {
    this.#key = key;
    this.#label = label;
  }

  token(binding: string): string {
    return createHmac('sha256', this.#key).update(`${this.#label}${binding}`).digest('base64url');
  }

  verify(binding: string, presented: unknown): boolean {
    if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) return false;
    const expected = Buffer.from(this.token(binding));
    const actual = Buffer.from(presented);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
