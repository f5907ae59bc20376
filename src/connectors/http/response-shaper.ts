import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { selectJsonPaths } from '../../config/http/json-path.js';
import type { ResponseRule } from './tool-spec.js';

/** Media type without parameters, lowercase (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

export function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function allowed(type: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === type || (p.endsWith('/*') && type.startsWith(p.slice(0, -1))));
}

const MAX_ERROR_TEXT = 2048;

/**
 * What the agent receives for a downstream response: a JSON body reduced to the allowed
 * fields; text in an allowed media type as is; anything else only as its type and length.
 * A non-2xx status is a tool error naming the status (with the body shaped the same way, cut
 * to 2 KB: API error bodies rarely match the success field list).
 */
export function shapeResponse(status: number, contentType: string | null, body: Uint8Array, rule: ResponseRule): Result {
  const type = mediaType(contentType);
  const ok = status >= 200 && status < 300;
  let text: string;
  if (body.byteLength === 0) text = ok ? `(empty response, status ${status})` : '';
  else if (isJsonType(type) && (allowed(type, rule.contentTypes) || allowed('application/json', rule.contentTypes))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(body));
    } catch {
      return summary(status, `${type} (not valid JSON)`, body.byteLength);
    }
    const selected = ok && rule.fields ? (selectJsonPaths(parsed, rule.fields) ?? null) : parsed;
    text = JSON.stringify(selected);
  } else if (type !== '' && allowed(type, rule.contentTypes)) {
    text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  } else {
    return summary(status, type || 'no content type', body.byteLength);
  }
  if (ok) return { content: [{ type: 'text', text }] };
  const cut = text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
  return { content: [{ type: 'text', text: `HTTP ${status}${cut ? `: ${cut}` : ''}` }], isError: true };
}

function summary(status: number, what: string, length: number): Result {
  const ok = status >= 200 && status < 300;
  return {
    content: [{ type: 'text', text: `${ok ? '' : `HTTP ${status}: `}[${what} response, ${length} bytes, not shown]` }],
    ...(ok ? {} : { isError: true }),
  };
}
