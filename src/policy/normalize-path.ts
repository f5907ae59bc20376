/**
 * One canonical spelling of a path, or a reason it is refused. Policies (`like "/srv/public/*"`),
 * token constraints (`prefix`) and the server must all see the same path, so a path is
 * normalised once, before any of them, and the normalised value is what goes upstream.
 *
 * POSIX rules: repeated slashes and `.` segments go, `..` removes the segment before it. A
 * backslash counts as a separator (a server on Windows, or one that "helpfully" converts,
 * would treat it as one; a legitimate name with a backslash is rare). Refused outright:
 * - `..` that climbs above the start (above `/`, or above a relative path's base),
 * - a NUL character (C APIs end the string there; the server would open something else),
 * - percent-encoded dots, slashes, backslashes or NULs outside a `file:` URI (`%2e%2e`: a
 *   server that URL-decodes would see a traversal the policy did not),
 * - in a `file:` URI: a host other than `localhost`, a query or fragment, malformed or
 *   double percent-encoding.
 * A `file:` URI stays a `file:` URI (`file:///normalised/path`), percent-encoded canonically.
 */
export type NormalizedPath = { ok: true; value: string } | { ok: false; reason: string };

const ENCODED_SPECIAL = /%(?:2e|2f|5c|00)/i;
const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;
const FILE_SCHEME = /^file:/i;

export function isFileUri(value: string): boolean {
  return FILE_SCHEME.test(value);
}

function normalizeSegments(path: string): NormalizedPath {
  const unified = path.replace(/\\/g, '/');
  const absolute = unified.startsWith('/');
  const out: string[] = [];
  for (const segment of unified.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return { ok: false, reason: absolute ? 'climbs above the root directory' : 'climbs above the directory it is relative to' };
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const trailing = out.length > 0 && /\/\.{0,2}$/.test(unified) ? '/' : '';
  const joined = out.join('/');
  if (absolute) return { ok: true, value: `/${joined}${trailing}` };
  return { ok: true, value: joined === '' ? '.' : `${joined}${trailing}` };
}

function fromFileUri(value: string): NormalizedPath {
  let rest = value.slice('file:'.length);
  if (rest.includes('?') || rest.includes('#')) return { ok: false, reason: 'is a file: URI with a query or fragment' };
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    const host = rest.slice(2, end < 0 ? rest.length : end);
    if (host !== '' && host.toLowerCase() !== 'localhost') return { ok: false, reason: `is a file: URI naming another host ("${host}")` };
    rest = end < 0 ? '/' : rest.slice(end);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return { ok: false, reason: 'is a file: URI with malformed percent-encoding' };
  }
  if (decoded.includes('\u0000')) return { ok: false, reason: 'contains a NUL character' };
  if (PERCENT_ESCAPE.test(decoded)) return { ok: false, reason: 'is a file: URI percent-encoded twice' };
  if (!decoded.startsWith('/') && !decoded.startsWith('\\')) return { ok: false, reason: 'is a file: URI without an absolute path' };
  const normalized = normalizeSegments(decoded);
  if (!normalized.ok) return normalized;
  return { ok: true, value: `file://${normalized.value.split('/').map(encodeURIComponent).join('/')}` };
}

export function normalizePath(value: string): NormalizedPath {
  if (value.includes('\u0000')) return { ok: false, reason: 'contains a NUL character' };
  if (isFileUri(value)) return fromFileUri(value);
  if (ENCODED_SPECIAL.test(value)) return { ok: false, reason: 'contains percent-encoded path characters (%2e, %2f, %5c or %00)' };
  return normalizeSegments(value);
}
