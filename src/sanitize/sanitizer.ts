import { heldSecrets, patternsFor, type HeldSecrets } from './held-secrets.js';
import { buildMatcher, type Matcher } from './matcher.js';
import { redactStrings } from './redact-strings.js';

/**
 * What an outbound message is, for the sanitizer: which channel it travels on decides nothing
 * for held credentials (they never go out, whatever the channel), but rules about data (PII,
 * classification) will differ per channel and method.
 */
export type Channel =
  /** The result of a request of `method` (unknown when the request was not seen). */
  | { kind: 'result'; method: string | undefined }
  /** A JSON-RPC error response. */
  | { kind: 'error'; method: string | undefined }
  /** A notification Gatehouse sends (progress, log message, list_changed, resource updated). */
  | { kind: 'notification'; method: string }
  /** A request Gatehouse sends to the client (sampling, elicitation, roots). */
  | { kind: 'request'; method: string }
  /** A body the HTTP front door writes itself (refusals before any JSON-RPC handling). */
  | { kind: 'http-error' };

/** Facts about the exchange a message belongs to. */
export interface SanitizeScope {
  /**
   * Credentials of the HTTP requests the message answers: the caller's access token (bearer
   * or DPoP-bound). A server that echoes what it was sent must not hand the agent its token.
   */
  readonly credentials?: readonly string[] | undefined;
}

/**
 * The one point every byte bound for an MCP client passes through. Returns the message with
 * what must not leave replaced by `[REDACTED:<type>]`, or the message itself when nothing did.
 * Throws `SanitizeError` when a message cannot be checked; the caller must then withhold it.
 */
export interface Sanitizer {
  sanitize<T>(message: T, channel: Channel, scope?: SanitizeScope): T;
}

/** Redaction type of the caller's own access token. */
export const CALLER_CREDENTIAL_TYPE = 'access_token';
const SCOPED_CACHE = 64;

/**
 * Held credentials (vault values, memory-only secrets, lease passwords, config literals) and
 * the caller's own credentials, in every string of a message: values and object keys, in the
 * forms `encodedForms` lists, and split across neighbouring strings.
 */
export class CredentialSanitizer implements Sanitizer {
  readonly #held: HeldSecrets;
  /** Matchers over callers' credentials, by credential list (a session presents the same token many times). */
  readonly #scoped = new Map<string, Matcher>();
  /** Results already checked against held credentials at a version (by the pipeline's sanitize stage). */
  readonly #checked = new WeakMap<object, number>();

  constructor(held: HeldSecrets = heldSecrets) {
    this.#held = held;
  }

  sanitize<T>(message: T, channel: Channel, scope?: SanitizeScope): T {
    const matchers: Matcher[] = [];
    if (!this.#alreadyChecked(message, channel)) matchers.push(this.#held.matcher());
    const credentials = scope?.credentials?.filter((c) => c.length >= 8);
    if (credentials && credentials.length > 0) matchers.push(this.#scopedMatcher(credentials));
    const out = redactStrings(message, matchers);
    if (channel.kind === 'result' && out !== null && typeof out === 'object' && matchers.length > 0 && !('jsonrpc' in out)) {
      // A bare result (the pipeline stage): the transport need not scan it for held values again.
      this.#checked.set(out, this.#held.version);
    }
    return out;
  }

  /** A JSON-RPC response whose result the pipeline already checked, against the current set. */
  #alreadyChecked(message: unknown, channel: Channel): boolean {
    if (channel.kind !== 'result' || message === null || typeof message !== 'object' || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') return false;
    const result = (message as { result?: unknown }).result;
    if (result === null || typeof result !== 'object') return false;
    if (this.#checked.get(result) !== this.#held.version) return false;
    // The envelope holds only `jsonrpc` and the client's own id besides the checked result.
    return Object.keys(message).every((k) => k === 'result' || k === 'jsonrpc' || k === 'id');
  }

  #scopedMatcher(credentials: readonly string[]): Matcher {
    const key = credentials.join('\n');
    let matcher = this.#scoped.get(key);
    if (matcher) {
      // Most recently used last: the first key is the one to evict.
      this.#scoped.delete(key);
    } else {
      matcher = buildMatcher(patternsFor(credentials, CALLER_CREDENTIAL_TYPE, { aligned: false }));
      if (this.#scoped.size >= SCOPED_CACHE) this.#scoped.delete(this.#scoped.keys().next().value as string);
    }
    this.#scoped.set(key, matcher);
    return matcher;
  }
}

/** The process-wide sanitizer every exit point uses. */
export const sanitizer: Sanitizer = new CredentialSanitizer();
