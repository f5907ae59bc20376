/**
 * Last line of defence for logs and audit records: any registered secret value, any JWT and
 * any bearer credential is replaced before the text leaves the process. Structured redaction
 * (pino `redact`, audit argument scrubbing) runs first; this catches what slips through,
 * e.g. a secret echoed inside an upstream's stderr line.
 */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|DPoP)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
export const REDACTED = '[REDACTED]';
/** Values shorter than this are too likely to collide with ordinary text to scrub verbatim. */
const MIN_SECRET_LENGTH = 4;

export class SecretRedactor {
  #secrets = new Set<string>();
  #ordered: string[] = [];

  register(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.#secrets.has(value)) return;
    this.#secrets.add(value);
    // Serialized log lines and audit bodies carry the JSON-escaped form.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.#secrets.add(escaped);
    // Longest first, so a secret that contains another is replaced whole.
    this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  /** Forgets a value that can no longer be used (a revoked lease's password). */
  unregister(value: string): void {
    if (!this.#secrets.delete(value)) return;
    this.#secrets.delete(JSON.stringify(value).slice(1, -1));
    this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.size;
  }

  /**
   * Replaces registered values only (no JWT or bearer patterns): for tool results flowing back
   * to the agent, where credential-shaped text may be legitimate data but a credential
   * Gatehouse holds never is.
   */
  scrubKnown(text: string): string {
    let out = text;
    for (const secret of this.#ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /**
   * Where registered values occur in `text`: sorted, non-overlapping [start, end) ranges,
   * longest value first where two overlap (as `scrubKnown` replaces them). For views that mark
   * what they masked instead of splicing in a placeholder that could pass for data.
   */
  spans(text: string): [number, number][] {
    const found: [number, number][] = [];
    let claimed: Uint8Array | undefined;
    for (const secret of this.#ordered) {
      let at = text.indexOf(secret);
      while (at !== -1) {
        const end = at + secret.length;
        claimed ??= new Uint8Array(text.length);
        let taken = -1;
        for (let i = at; i < end; i++) {
          if (claimed[i] === 1) {
            taken = i;
            break;
          }
        }
        if (taken === -1) {
          claimed.fill(1, at, end);
          found.push([at, end]);
          at = text.indexOf(secret, end);
        } else {
          // Overlaps a longer value: look again after the claimed run.
          let next = taken;
          while (next < text.length && claimed[next] === 1) next++;
          at = text.indexOf(secret, next);
        }
      }
    }
    return found.sort((a, b) => a[0] - b[0]);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    if (out.includes('eyJ')) out = out.replace(JWT, REDACTED);
    if (out.length > 14) out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
    return out;
  }
}

/** Process-wide registry: more redaction never hurts, so every component shares it. */
export const secrets = new SecretRedactor();

/**
 * The credentials Gatehouse holds — vault values, memory-only secrets, lease passwords, literal
 * secrets found in the config — and nothing else. These are also scrubbed from tool results on
 * their way to the agent, where a broader list (every `${VAR}` value, say) would mangle data.
 */
export const heldCredentials = new SecretRedactor();

/** Registers a credential for log, audit and result scrubbing. */
export function registerCredential(value: string): void {
  secrets.register(value);
  heldCredentials.register(value);
}

/** Forgets a credential that can no longer be used. */
export function unregisterCredential(value: string): void {
  secrets.unregister(value);
  heldCredentials.unregister(value);
}
