// Email addresses: a linear scanner anchored at `@`, for the practical subset of RFC 5322
// addr-spec (§3.4.1) people write: a dot-atom local part of letters, digits and `._%+-'`
// (at most 64 characters, RFC 5321 §4.5.3.1.1, no leading, trailing or doubled dot), and a
// domain of at least two LDH labels (RFC 1035 §2.3.1: letters, digits, inner hyphens, at
// most 63 characters each, 253 in all) ending in an alphabetic top-level label (or an IDN
// `xn--` label). Spared look-alikes: `@scope/pkg`, `pkg@1.2.3`, `image@sha256:…`, `@decorator`,
// `user@localhost`, `icon@2x.png` (a file extension is not a TLD), `git@host:org/repo`.

import { isAlnum, isAsciiLetter, isDigit } from './chars.js';

const MAX_LOCAL = 64;
const MAX_LABEL = 63;
const MAX_DOMAIN = 253;

/** File extensions that are not top-level domains but follow `name@2x.` in asset paths. */
const FILE_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'ico',
  'bmp',
  'tif',
  'tiff',
  'avif',
  'heic',
  'js',
  'mjs',
  'cjs',
  'ts',
  'mts',
  'cts',
  'tsx',
  'jsx',
  'json',
  'css',
  'scss',
  'less',
  'html',
  'htm',
  'xml',
  'yaml',
  'yml',
  'toml',
  'txt',
  'lock',
  'wasm',
  'pdf',
  'csv',
  'log',
  'tgz',
  'gz',
  'bz2',
  'xz',
  'jar',
  'exe',
  'dll',
  'dylib',
  'cpp',
  'hpp',
  'java',
  'kt',
  'rb',
  'php',
  'swift',
  'vue',
  'svelte',
]);

function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d || c === 0x27;
}

function isLabelChar(c: number): boolean {
  return isAlnum(c) || c === 0x2d;
}

/** Calls `onEmail(type, start, end)` for every address in `text[from, to)`. */
export function findEmails(text: string, from: number, to: number, onEmail: (type: string, start: number, end: number) => void, type = 'email'): void {
  let pos = from;
  while (pos < to) {
    const p = text.indexOf('@', pos);
    if (p === -1 || p >= to) return;
    pos = p + 1;
    // Local part, backwards from the `@`.
    let l = p;
    while (l > from && p - l < MAX_LOCAL && isLocalChar(text.charCodeAt(l - 1))) l--;
    if (l === p) continue;
    if (l > from && isLocalChar(text.charCodeAt(l - 1))) continue; // longer than 64
    // Leading characters that cannot start an address (`'quoted'`, `-flag`, `.dotfile`).
    while (l < p && (text.charCodeAt(l) === 0x2e || text.charCodeAt(l) === 0x27 || text.charCodeAt(l) === 0x2d)) l++;
    if (l === p || text.charCodeAt(p - 1) === 0x2e) continue;
    let doubled = false;
    for (let i = l + 1; i < p; i++) if (text.charCodeAt(i) === 0x2e && text.charCodeAt(i - 1) === 0x2e) doubled = true;
    if (doubled) continue;
    // Domain: LDH labels separated by single dots.
    let i = p + 1;
    let labels = 0;
    let lastLabelStart = i;
    let valid = true;
    while (i < to && i - p - 1 <= MAX_DOMAIN) {
      const labelStart = i;
      while (i < to && i - labelStart <= MAX_LABEL && isLabelChar(text.charCodeAt(i))) i++;
      const len = i - labelStart;
      if (len === 0 || len > MAX_LABEL) {
        valid = len !== 0 || labels > 0;
        if (len === 0 && labels > 0) i--; // a trailing dot ends the sentence, not the domain
        break;
      }
      if (text.charCodeAt(labelStart) === 0x2d || text.charCodeAt(i - 1) === 0x2d) {
        valid = false;
        break;
      }
      labels++;
      lastLabelStart = labelStart;
      if (i < to && text.charCodeAt(i) === 0x2e && i + 1 < to && isLabelChar(text.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      break;
    }
    if (!valid || labels < 2 || i - p - 1 > MAX_DOMAIN) continue;
    const end = i;
    const next = end < to ? text.charCodeAt(end) : -1;
    if (next === 0x5f || next === 0x40 || isLabelChar(next)) continue;
    const tld = text.slice(lastLabelStart, end).toLowerCase();
    if (!isTld(tld) || FILE_EXTENSIONS.has(tld)) continue;
    // scp-style git remote: git@github.com:org/repo.git
    if (next === 0x3a && p - l === 3 && text.startsWith('git', l)) continue;
    onEmail(type, l, end);
    pos = end;
  }
}

function isTld(label: string): boolean {
  if (label.startsWith('xn--')) return label.length > 4;
  if (label.length < 2) return false;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (!isAsciiLetter(c) || isDigit(c)) return false;
  }
  return true;
}
