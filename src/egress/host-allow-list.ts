import { domainToASCII } from 'node:url';

/**
 * Which hosts a guarded connection may name: exact host names (`api.example.com`), IP
 * literals (`127.0.0.1`, `[::1]`) and `*.suffix` patterns, which match any name below the
 * suffix but not the suffix itself (`*.example.com` matches `a.example.com` and
 * `a.b.example.com`, never `example.com` or `badexample.com`). Names are compared in their
 * ASCII (punycode) lowercase form without a trailing dot, as the URL parser gives them.
 */
export class HostAllowList {
  readonly #exact = new Set<string>();
  readonly #suffixes: string[] = [];

  constructor(readonly patterns: readonly string[]) {
    for (const pattern of patterns) {
      const problem = hostPatternProblem(pattern);
      if (problem) throw new RangeError(problem);
      if (pattern.startsWith('*.')) this.#suffixes.push(`.${normalizeHost(pattern.slice(2))}`);
      else this.#exact.add(normalizeHost(pattern));
    }
  }

  get size(): number {
    return this.#exact.size + this.#suffixes.length;
  }

  /** `hostname` as `URL.hostname` gives it (lowercase, punycode, IPv6 in brackets). */
  has(hostname: string): boolean {
    const host = normalizeHost(hostname);
    if (this.#exact.has(host)) return true;
    return this.#suffixes.some((suffix) => host.length > suffix.length && host.endsWith(suffix));
  }
}

const CANONICAL = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

/** Lowercase ASCII, no trailing dot. An IPv6 literal keeps its brackets. */
function normalizeHost(host: string): string {
  // The common case, a host as URL.hostname gives it, needs no second parse.
  if (CANONICAL.test(host)) return host;
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  return URL.parse(`http://${bare}/`)?.hostname ?? bare.toLowerCase();
}

/** Why a configured host pattern is not one, or undefined. */
export function hostPatternProblem(pattern: string): string | undefined {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (name.length === 0 || name.length > 253) return `"${pattern}" is not a host name`;
  if (name.includes('*')) return `"${pattern}": a wildcard is allowed only as the first label ("*.example.com")`;
  if (/[/:@?#\s]/.test(name) && !(name.startsWith('[') && name.endsWith(']'))) return `"${pattern}" is not a host name (no scheme, port or path)`;
  const parsed = URL.parse(`http://${name}/`);
  if (parsed?.port !== '' || parsed.pathname !== '/') return `"${pattern}" is not a host name`;
  if (!name.startsWith('[') && domainToASCII(name) === '') return `"${pattern}" is not a valid host name`;
  if (pattern.startsWith('*.') && !name.includes('.')) return `"${pattern}": a wildcard needs a suffix with at least two labels ("*.example.com")`;
  return undefined;
}
