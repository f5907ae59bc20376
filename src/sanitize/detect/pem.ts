// PEM private key blocks the preset's rule does not report: it needs an END line, 100 to
// 10,000 body characters starting with an ASN.1 or OpenSSH magic, and no header lines, so
// it passes over encrypted keys (`ENCRYPTED PRIVATE KEY`, `Proc-Type:` headers), PGP
// private key blocks (armor headers, a body starting `lQ`), larger keys, and a key cut off
// by truncated output. This scanner reports any `-----BEGIN … PRIVATE KEY[ BLOCK]-----`
// followed by at least MIN_BODY base64 characters, up to its END line or, when there is
// none, to the end of the key-shaped text. Placeholders (`...`, `<key>`) have no base64
// body and are not reported. Linear: every block is scanned once from its BEGIN.

const BEGIN = '-----BEGIN';
const MAX_LABEL = 64;
const MIN_BODY = 64;
/** Longest body looked at for one block (an 8192-bit RSA key is ~6.5 KB). */
const MAX_BODY = 65_536;

function isB64(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;
}

/** Characters of a key body and its armor/encryption header lines. */
function isBodyChar(c: number): boolean {
  return (
    isB64(c) ||
    c === 0x20 ||
    c === 0x09 ||
    c === 0x0a ||
    c === 0x0d ||
    c === 0x5c || // JSON-escaped newlines (\n)
    c === 0x3a || // Proc-Type: / DEK-Info: / Version:
    c === 0x2c ||
    c === 0x2d ||
    c === 0x2e
  );
}

/**
 * Skips `Key: value` header lines after the BEGIN line (PGP armor `Version:` / `Comment:`,
 * legacy OpenSSL `Proc-Type:` / `DEK-Info:`); their values are free text.
 */
function skipArmorHeaders(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && (text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d)) i++;
  for (let lines = 0; lines < 16 && i < to && !text.startsWith('-----', i); lines++) {
    // Bounded look at one line: a header line is short and has a colon.
    let lineEnd = i;
    let colon = false;
    const limit = Math.min(to, i + 1024);
    while (lineEnd < limit && text.charCodeAt(lineEnd) !== 0x0a) {
      if (text.charCodeAt(lineEnd) === 0x3a) colon = true;
      lineEnd++;
    }
    if (!colon || lineEnd === limit) break;
    i = lineEnd;
    while (i < to && (text.charCodeAt(i) === 0x0a || text.charCodeAt(i) === 0x0d)) i++;
  }
  return i;
}

export function findPemPrivateKeys(text: string, from: number, to: number, onKey: (start: number, end: number) => void): void {
  let pos = from;
  while (pos < to) {
    const p = text.indexOf(BEGIN, pos);
    if (p === -1 || p + BEGIN.length > to) return;
    pos = p + BEGIN.length;
    // Label: [ ]?[A-Z0-9 ]{…}-----
    let i = pos;
    if (i < to && text.charCodeAt(i) === 0x20) i++;
    const labelStart = i;
    while (i < to && i - labelStart <= MAX_LABEL) {
      const c = text.charCodeAt(i);
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20)) break;
      i++;
    }
    if (!text.startsWith('-----', i)) continue;
    const label = text.slice(labelStart, i);
    if (!label.endsWith('PRIVATE KEY') && !label.endsWith('PRIVATE KEY BLOCK')) continue;
    const bodyStart = i + 5;
    let j = skipArmorHeaders(text, bodyStart, to);
    let base64 = 0;
    const limit = Math.min(to, bodyStart + MAX_BODY);
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === 0x2d && text.startsWith('-----', j)) break;
      if (!isBodyChar(c)) break;
      if (isB64(c)) base64++;
      j++;
    }
    if (base64 < MIN_BODY) {
      pos = Math.max(pos, j);
      continue;
    }
    let end = j;
    if (text.startsWith('-----END', j)) {
      // The END line's closing dashes, looked for within a label's length.
      end = j + 8;
      const limit = Math.min(to - 4, j + 8 + MAX_LABEL + 2);
      for (let k = j + 8; k < limit; k++) {
        if (text.startsWith('-----', k)) {
          end = k + 5;
          break;
        }
      }
    } else {
      // Truncated: end at the last body character that is part of the key text.
      while (end > bodyStart && !isB64(text.charCodeAt(end - 1))) end--;
    }
    onKey(p, end);
    pos = end;
  }
}
