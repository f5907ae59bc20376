import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_UPSTREAM_STATE_LENGTH } from '../../connectors/index.js';

/**
 * What a `requestState` Gatehouse issues is bound to (mrtr §server-requirements: the principal,
 * a short expiry and the originating request). `method` and `target` name the request as the
 * client sent it (tool or prompt name, resource URI); `argsHash` is the canonical hash of its
 * arguments, so the state cannot be presented on any other request.
 */
export interface RequestStateBinding {
  sub: string;
  client: string;
  method: string;
  target: string;
  argsHash: string;
}

/** The sealed payload: the binding, the pending call it resumes, which round, and until when. */
export interface RequestStateClaims extends RequestStateBinding {
  /** The pending upstream request the state resumes (random, never a client-chosen value). */
  pending: string;
  /** Which input round of that request this state answers: an older round's state is spent. */
  round: number;
  /** Expiry, epoch milliseconds. */
  exp: number;
  /**
   * Present when the request was answered by an upstream of the stateless revision itself: the
   * server that asked, and the `requestState` it issued (its own, opaque, possibly holding its
   * data), sealed inside ours so the client neither reads nor alters it. `pending` is then a nonce that
   * makes the state single-use.
   */
  upstream?: UpstreamState | undefined;
}

/** An upstream's own `requestState`, carried sealed inside Gatehouse's. */
export interface UpstreamState {
  server: string;
  /** Absent when the upstream issued none (its InputRequiredResult had only inputRequests). */
  state?: string | undefined;
  /** The method of each input request the upstream made, by its key: the retry's answers are checked against them. */
  requests?: Record<string, string> | undefined;
}

// The longest upstream `requestState` Gatehouse carries is the upstream room's limit; sealed,
// it grows by a third plus the binding (MAX_REQUEST_STATE_LENGTH below).
export { MAX_UPSTREAM_STATE_LENGTH };

/** Why a presented state is refused. Stable codes: they reach the audit log and the client's error data. */
export type RequestStateProblem = 'malformed' | 'tampered' | 'expired' | 'wrong_principal' | 'wrong_request' | 'issued_elsewhere';

const VERSION = 2;
/** Names the sealer (this process) that issued a state, so another node or a restarted one can say so. */
const ISSUER_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** States Gatehouse issues are far shorter; anything longer is refused before it is decoded. */
export const MAX_REQUEST_STATE_LENGTH = 4096 + Math.ceil((MAX_UPSTREAM_STATE_LENGTH * 4) / 3) + 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Authenticated, not encrypted: a state sealed for another purpose under the same key does not open here. */
const AAD = Buffer.from('gatehouse mcp request-state v2');

/**
 * Seals and opens `requestState` with AES-256-GCM (node:crypto). Layout, base64url:
 * version(1) ‖ issuer(8) ‖ iv(12) ‖ ciphertext ‖ tag(16). `issuer` is random per sealer and
 * covered by the tag (additional data); a state with another issuer was made by another
 * process — another node of a cluster, or this node before a restart — and is refused as
 * `issued_elsewhere`, which tells the client to send its request again. It decides nothing
 * else: a state whose issuer was edited to look foreign gets the same "send it again". The payload is JSON of RequestStateClaims, so the
 * client learns nothing from it (user, tool, arguments hash) and cannot change any of it
 * without the tag failing. The key is 32 bytes from the CSPRNG, held by this process only: the
 * request a state resumes is pending in this process's memory, so no other process could
 * resume it anyway, and a restart invalidates every outstanding state at once.
 */
export class RequestStateSealer {
  readonly #key: Buffer;
  readonly #issuer = randomBytes(ISSUER_BYTES);

  constructor(
    key: Uint8Array = randomBytes(KEY_BYTES),
    private readonly now: () => number = Date.now,
  ) {
    if (key.length !== KEY_BYTES) throw new Error(`a request-state key must be ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  seal(claims: RequestStateClaims): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.concat([AAD, this.#issuer]));
    const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), this.#issuer, iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * Opens a state and checks it against the request it arrived on. Every check runs on the
   * authenticated payload only: nothing outside the tag decides anything.
   */
  open(state: unknown, expected: RequestStateBinding): { claims: RequestStateClaims } | { problem: RequestStateProblem } {
    if (typeof state !== 'string' || state.length === 0 || state.length > MAX_REQUEST_STATE_LENGTH || !BASE64URL.test(state)) return { problem: 'malformed' };
    const bytes = Buffer.from(state, 'base64url');
    const head = 1 + ISSUER_BYTES + IV_BYTES;
    if (bytes.length <= head + TAG_BYTES || bytes[0] !== VERSION) return { problem: 'malformed' };
    const issuer = bytes.subarray(1, 1 + ISSUER_BYTES);
    if (!timingSafeEqual(issuer, this.#issuer)) return { problem: 'issued_elsewhere' };
    const iv = bytes.subarray(1 + ISSUER_BYTES, head);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(head, bytes.length - TAG_BYTES);
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.concat([AAD, issuer]));
      decipher.setAuthTag(tag);
      text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return { problem: 'tampered' };
    }
    const claims = parseClaims(text);
    if (!claims) return { problem: 'tampered' };
    if (claims.sub !== expected.sub || claims.client !== expected.client) return { problem: 'wrong_principal' };
    if (claims.method !== expected.method || claims.target !== expected.target || claims.argsHash !== expected.argsHash) return { problem: 'wrong_request' };
    if (this.now() >= claims.exp) return { problem: 'expired' };
    return { claims };
  }
}

function parseClaims(text: string): RequestStateClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const c = value as Partial<RequestStateClaims> | null;
  if (typeof c !== 'object' || c === null) return undefined;
  const strings = [c.sub, c.client, c.method, c.target, c.argsHash, c.pending];
  if (!strings.every((s) => typeof s === 'string')) return undefined;
  if (!Number.isSafeInteger(c.round) || !Number.isFinite(c.exp)) return undefined;
  if (c.upstream !== undefined) {
    const u = c.upstream as Partial<UpstreamState> | null;
    if (typeof u !== 'object' || u === null || typeof u.server !== 'string' || (u.state !== undefined && typeof u.state !== 'string')) return undefined;
    const requests = u.requests ?? {};
    if (typeof requests !== 'object' || requests === null || !Object.values(requests).every((m) => typeof m === 'string')) return undefined;
  }
  return c as RequestStateClaims;
}
