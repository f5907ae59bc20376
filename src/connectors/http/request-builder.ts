import { InvalidParamsError } from '../../errors/index.js';
import type { HttpToolSpec, ValueBinding } from './tool-spec.js';

/** One request, ready to send (credentials and context headers are added later). */
export interface BuiltRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
}

const MAX_PATH_PARAM = 1024;
// Control characters (C0, DEL, C1) in a value: refused in paths, headers and query values.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CRLF_OR_CONTROL_IN_HEADER = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

function refuse(argument: string, message: string): never {
  throw new InvalidParamsError('http.invalid_argument', message, { data: { argument } });
}

/** A scalar argument as text; objects and arrays are refused where a single value is needed. */
function scalarText(argument: string, value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return refuse(argument, `argument "${argument}" must be a string, number or boolean to be used in the ${where}`);
}

/**
 * A path parameter, percent-encoded as one segment. Refused (never "cleaned"): anything that
 * could climb or split segments in any decoding — `/`, `\`, `..`, a lone `.`, the same written
 * with percent escapes (`%2e%2e`, `%2f`, `%252f`), control characters, and the empty string.
 */
export function encodePathParam(argument: string, value: unknown): string {
  const text = scalarText(argument, value, 'URL path');
  if (text.length === 0) refuse(argument, `path parameter "${argument}" is empty`);
  if (text.length > MAX_PATH_PARAM) refuse(argument, `path parameter "${argument}" is longer than ${MAX_PATH_PARAM} characters`);
  if (!text.isWellFormed()) refuse(argument, `path parameter "${argument}" is not well-formed Unicode`);
  let decoded = text;
  // Each round removes one layer of percent-encoding; three layers is more than any API needs.
  for (let round = 0; round < 4; round++) {
    if (CONTROL.test(decoded)) refuse(argument, `path parameter "${argument}" contains control characters`);
    if (decoded.includes('/') || decoded.includes('\\')) refuse(argument, `path parameter "${argument}" must not contain "/" or "\\" (in any encoding)`);
    if (decoded.includes('..') || decoded === '.')
      refuse(argument, `path parameter "${argument}" must not contain a dot segment ("." or "..", in any encoding)`);
    if (!PERCENT_ESCAPE.test(decoded)) break;
    if (round === 3) refuse(argument, `path parameter "${argument}" is percent-encoded too many times`);
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      refuse(argument, `path parameter "${argument}" has an invalid percent escape`);
    }
  }
  // encodeURIComponent leaves !'()* alone; encode them too so the segment is unambiguous.
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function bound(binding: ValueBinding, args: Record<string, unknown>, where: string): unknown {
  if ('arg' in binding) return args[binding.arg];
  let text = '';
  for (const piece of binding.text) {
    if ('literal' in piece) text += piece.literal;
    else {
      const value = args[piece.arg];
      if (value === undefined || value === null) return undefined;
      text += scalarText(piece.arg, value, where);
    }
  }
  return text;
}

function headerValue(name: string, binding: ValueBinding, args: Record<string, unknown>): string | undefined {
  const value = bound(binding, args, `header ${name}`);
  if (value === undefined || value === null) return undefined;
  const argument = 'arg' in binding ? binding.arg : name;
  const text = scalarText(argument, value, `header ${name}`);
  if (CRLF_OR_CONTROL_IN_HEADER.test(text)) refuse(argument, `header ${name}: the value must not contain CR, LF or other control characters`);
  if (text.length > 8192) refuse(argument, `header ${name}: the value is longer than 8192 characters`);
  // Headers are ByteStrings: anything beyond Latin-1 cannot be sent as is.
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) > 0xff) refuse(argument, `header ${name}: the value has characters that cannot be sent in a header`);
  return text;
}

function fillBody(template: unknown, args: Record<string, unknown>): unknown {
  if (typeof template === 'string') {
    const whole = /^\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}$/.exec(template);
    if (whole) return args[whole[1] as string];
    return template.replace(/\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}/g, (_m, name: string) => {
      const value = args[name];
      return value === undefined || value === null ? '' : scalarText(name, value, 'request body');
    });
  }
  if (Array.isArray(template)) return template.map((t) => fillBody(t, args)).filter((v) => v !== undefined);
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    for (const [key, value] of Object.entries(template)) {
      const filled = fillBody(value, args);
      if (filled !== undefined) out[key] = filled;
    }
    return out;
  }
  return template;
}

/**
 * The request a tool call makes. The scheme, host and port are the base URL's and nothing an
 * argument holds can change them: arguments enter the path only as percent-encoded segment
 * text, the query only through URLSearchParams, headers only as checked values.
 */
export function buildRequest(spec: HttpToolSpec, base: URL, args: Record<string, unknown>): BuiltRequest {
  let path = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  for (const segment of spec.path) {
    let text = '';
    for (const piece of segment) {
      if ('literal' in piece) text += piece.literal;
      else {
        const value = args[piece.param];
        if (value === undefined || value === null) refuse(piece.param, `path parameter "${piece.param}" is required`);
        text += encodePathParam(piece.param, value);
      }
    }
    path += `/${text}`;
  }
  const url = new URL(base.origin);
  url.pathname = path;
  // The URL parser must not have reinterpreted anything (dot segments, backslashes): the
  // path it holds is the one built, on the base URL's origin.
  if (url.origin !== base.origin || url.pathname !== path) refuse('path', 'the request path would not stay below the API base URL');

  for (const [name, binding] of spec.query) {
    const value = bound(binding, args, `query parameter ${name}`);
    if (value === undefined || value === null) continue;
    const argument = 'arg' in binding ? binding.arg : name;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      const text = scalarText(argument, item, `query parameter ${name}`);
      if (CONTROL.test(text)) refuse(argument, `query parameter ${name}: the value must not contain control characters`);
      url.searchParams.append(name, text);
    }
  }

  const headers: Record<string, string> = {};
  for (const [name, binding] of spec.headers) {
    const value = headerValue(name, binding, args);
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }

  let body: string | undefined;
  if (spec.body) {
    const filled = fillBody(spec.body.template, args);
    if (filled !== undefined) {
      body = JSON.stringify(filled);
      headers['content-type'] = 'application/json';
    }
  }
  return { method: spec.method, url, headers, body };
}
