import type { Context } from 'hono';
import type { CsrfTokens } from './csrf.js';

/** The person signed in to the console, as the authorization server's sign-in establishes it. */
export interface ConsoleUser {
  sub: string;
  groups: readonly string[];
  /** When this session last presented a second factor (ms since epoch); absent if never. */
  mfaAt?: number | undefined;
  /** Identifies the session; CSRF tokens are bound to it. */
  sessionId: string;
}

/**
 * The seam between console pages and sign-in. Implementations read the browser session
 * (cookie) — never an `Authorization` header: an agent's bearer token must not be able to
 * act in the console, and the pages refuse any request that carries one.
 */
export interface ConsoleAuth {
  /** The signed-in person, or undefined; throws ConsoleAccessError when they are refused outright. */
  currentUser(c: Context): ConsoleUser | undefined | Promise<ConsoleUser | undefined>;
  /** Where to send someone to sign in (or to present a second factor again), then come back to `returnTo`. */
  loginUrl?(returnTo: string, options: { mfa: boolean }): string;
}

/** What every console page needs: who is signed in, the public URL forms post back to, CSRF tokens and a clock. */
export interface ConsolePageDeps {
  auth: ConsoleAuth;
  publicUrl: string;
  csrf?: CsrfTokens;
  now?: () => number;
}

/**
 * Thrown by `currentUser` when the person is signed in but may not use the console from here
 * (e.g. conditional access: not from this network). Shown as a 403 with `message`.
 */
export class ConsoleAccessError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleAccessError';
  }
}

/** No console sign-in configured: nobody is signed in, so nothing can be approved in the console. */
export const noConsoleAuth: ConsoleAuth = {
  currentUser: () => undefined,
};

/**
 * The signed-in console user, undefined when nobody is signed in, or the `ConsoleAccessError`
 * that refused them (signed in, but not allowed from here), so each page can word the refusal.
 * Any other failure propagates.
 */
export async function signedInUser(auth: ConsoleAuth, c: Context): Promise<ConsoleUser | ConsoleAccessError | undefined> {
  try {
    return await auth.currentUser(c);
  } catch (error) {
    if (error instanceof ConsoleAccessError) return error;
    throw error;
  }
}
