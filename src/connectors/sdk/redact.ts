export const REDACTED = '[REDACTED]';

/**
 * Replaces every credential value this process received in text and JSON-like values. Exact
 * substring replacement (split/join), no regular expressions: linear in the input.
 */
export class Redactor {
  readonly #values = new Set<string>();

  add(value: string): void {
    // Very short values would redact ordinary text; a credential is never that short.
    if (value.length >= 6) this.#values.add(value);
    for (const word of value.split(' ')) if (word.length >= 12 && word !== value) this.#values.add(word);
  }

  redactText(text: string): string {
    let out = text;
    for (const value of this.#values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }

  redact(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (depth > 32 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.redact(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[this.redactText(k)] = this.redact(v, depth + 1);
    return out;
  }
}
