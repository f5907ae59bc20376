/** Query parameter names that carry credentials in common APIs; redacted in every recorded URL. */
export const CREDENTIAL_QUERY_PARAMS = [
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'token',
  'auth',
  'password',
  'secret',
  'client_secret',
  'code',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
] as const;

const PLACEHOLDER = '[REDACTED]';

/**
 * The URL as it may be recorded: credential query parameter values (the well-known names and
 * `extra`, case-insensitive) replaced, user info removed, fragment dropped.
 */
export function redactUrl(url: URL, extra: Iterable<string> = []): string {
  if (!url.search && !url.username && !url.password && !url.hash) return url.href;
  const names = new Set([...CREDENTIAL_QUERY_PARAMS, ...[...extra].map((n) => n.toLowerCase())]);
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  if (copy.search) {
    const params = new URLSearchParams();
    for (const [name, value] of copy.searchParams) params.append(name, names.has(name.toLowerCase()) ? PLACEHOLDER : value);
    copy.search = params.toString();
  }
  return copy.href;
}
