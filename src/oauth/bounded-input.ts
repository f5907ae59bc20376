import type { Context } from 'hono';
import { MAX_PASSWORD_LENGTH } from '../identity/password.js';
import { MAX_TOTP_CODE_LENGTH, MAX_USER_NAME_LENGTH } from '../identity/users.js';
import { BodyTooLarge, readCapped } from '../http/read-capped.js';

/**
 * Size limits for everything an unauthenticated browser sends the sign-in, consent and
 * single sign-on pages. Each value is bounded before anything else looks at it — before it is
 * hashed, compared, logged or written to the audit log — and an oversized request is refused
 * with a page that does not repeat what was sent.
 */

/** The whole form body. A 1024-character password of 3-byte characters, percent-encoded, is ~9 KiB. */
export const MAX_FORM_BYTES = 16 * 1024;
const MAX_FIELDS = 16;
const MAX_FIELD_NAME = 32;
/** Any field not listed below (none of our forms has one; a browser may add one). */
const DEFAULT_FIELD_LIMIT = 256;

/** Per-field limits in UTF-16 code units, for the fields the pages' forms have. */
export const FORM_FIELD_LIMITS: Readonly<Record<string, number>> = {
  csrf: 128,
  username: MAX_USER_NAME_LENGTH,
  password: MAX_PASSWORD_LENGTH,
  code: MAX_TOTP_CODE_LENGTH,
  decision: 16,
  client_id: 255,
};

/** Query parameters of the pages' GET callbacks (the IdP's redirect, the account sign-in). */
export const QUERY_LIMITS: Readonly<Record<string, number>> = {
  state: 128,
  code: 4096,
  iss: 2048,
  session_state: 512,
  error: 128,
  error_description: 1024,
  error_uri: 2048,
  return_to: 2048,
  mfa: 8,
  revoked: 256,
};

const LABELS: Readonly<Record<string, string>> = {
  username: 'username',
  password: 'password',
  code: 'code',
  csrf: 'form token',
  decision: 'decision',
  client_id: 'client id',
};

export type BoundedInput = { ok: true; fields: Record<string, string> } | { ok: false; status: 400 | 413 | 415; code: string; message: string };

function bounded(entries: Iterable<[string, string]>, limits: Readonly<Record<string, number>>): BoundedInput {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [name, value] of entries) {
    if (++count > MAX_FIELDS) return { ok: false, status: 400, code: 'interaction.form_invalid', message: 'This request has too many fields.' };
    // The name of a field we do not know is never repeated back: it is attacker text.
    if (name.length > MAX_FIELD_NAME)
      return { ok: false, status: 400, code: 'interaction.form_invalid', message: 'This request has a field with an over-long name.' };
    if (Object.hasOwn(fields, name)) return { ok: false, status: 400, code: 'interaction.form_invalid', message: 'This request repeats a field.' };
    const limit = Object.hasOwn(limits, name) ? (limits[name] as number) : DEFAULT_FIELD_LIMIT;
    if (value.length > limit) {
      const label = Object.hasOwn(LABELS, name) ? `The ${LABELS[name]}` : 'A field';
      return { ok: false, status: 400, code: 'interaction.field_too_long', message: `${label} is too long (at most ${limit} characters).` };
    }
    fields[name] = value;
  }
  return { ok: true, fields: { ...fields } };
}

/**
 * Reads an `application/x-www-form-urlencoded` body with a hard byte cap (the body is never
 * buffered beyond it), then bounds every field.
 */
export async function readBoundedForm(c: Context, limits: Readonly<Record<string, number>> = FORM_FIELD_LIMITS): Promise<BoundedInput> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded'))
    return { ok: false, status: 415, code: 'interaction.unsupported_form', message: 'This form must be submitted from the page.' };
  const tooLarge: BoundedInput = { ok: false, status: 413, code: 'interaction.form_too_large', message: 'This request is too large.' };
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) return tooLarge;
  let text: string;
  try {
    const incoming = (c.env as { incoming?: AsyncIterable<Uint8Array> } | undefined)?.incoming;
    const source = incoming ?? (c.req.raw.body as unknown as AsyncIterable<Uint8Array> | null);
    text = source ? await readCapped(source, MAX_FORM_BYTES) : '';
  } catch (error) {
    if (error instanceof BodyTooLarge) return tooLarge;
    throw error;
  }
  return bounded(new URLSearchParams(text), limits);
}

/** Bounds every query parameter of a GET the pages receive (the URL itself is bounded by the HTTP server). */
export function boundedQuery(url: string, limits: Readonly<Record<string, number>> = QUERY_LIMITS): BoundedInput {
  const parsed = URL.parse(url);
  if (!parsed) return { ok: false, status: 400, code: 'interaction.form_invalid', message: 'This address is not valid.' };
  return bounded(parsed.searchParams, limits);
}
