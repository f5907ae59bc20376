import { Csrf } from '../http/csrf.js';

/**
 * Synchronizer tokens for console forms: bound to the session id and the form's purpose, so a
 * token from another session, for another form, or from before a restart does not verify.
 */
export class CsrfTokens {
  readonly #csrf: Csrf;

  constructor(key?: Buffer) {
    this.#csrf = new Csrf(key, '');
  }

  issue(sessionId: string, purpose: string): string {
    return this.#csrf.token(`${sessionId}\n${purpose}`);
  }

  verify(sessionId: string, purpose: string, token: unknown): boolean {
    return this.#csrf.verify(`${sessionId}\n${purpose}`, token);
  }
}
