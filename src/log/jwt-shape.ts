/**
 * Finds JSON Web Tokens in free text without a regular expression: a header and a payload that
 * are base64url JSON objects (`eyJ` plus at least five more characters each), then a
 * signature segment, all joined by dots (RFC 7519 §3, compact serialization). Finds exactly
 * what the global pattern `eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*` would, in
 * one linear pass: that pattern, run over text, rescans a long base64url run from every `eyJ`
 * inside it, which is quadratic in the run's length.
 */

function isBase64Url(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x5f;
}

/** Index of the first character at or after `from` that is not base64url. */
function runEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isBase64Url(text.charCodeAt(i))) i++;
  return i;
}

/** Segment length a JWT header or payload needs: `eyJ` and five more characters. */
const MIN_SEGMENT = 8;

/** `text` with every JWT replaced by `replacement`. */
export function replaceJwts(text: string, replacement: string): string {
  let at = text.indexOf('eyJ');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    // Every later `eyJ` in the same run reaches the same run end, so it can only fail the same
    // way: on a miss, the search resumes at the end of the run, which keeps the scan linear.
    const headerEnd = runEnd(text, at + 3);
    let resume = headerEnd;
    if (headerEnd - at >= MIN_SEGMENT && text.charCodeAt(headerEnd) === 0x2e && text.startsWith('eyJ', headerEnd + 1)) {
      const payloadEnd = runEnd(text, headerEnd + 4);
      if (payloadEnd - (headerEnd + 1) >= MIN_SEGMENT && text.charCodeAt(payloadEnd) === 0x2e) {
        const signatureEnd = runEnd(text, payloadEnd + 1);
        out += text.slice(copied, at) + replacement;
        copied = signatureEnd;
        resume = signatureEnd;
      }
    }
    at = text.indexOf('eyJ', resume);
  }
  return copied === 0 ? text : out + text.slice(copied);
}
