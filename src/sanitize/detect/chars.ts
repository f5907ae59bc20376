// Character-class helpers shared by the scanners (code-unit tests, no regular expressions).

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c);
}

/** Letters, digits and `_`: what glues a number to a longer token. Non-ASCII letters too. */
export function isWordChar(c: number): boolean {
  return isAlnum(c) || c === 0x5f || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0x2000);
}

export function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * `ver` / `version` (any case, so `AssemblyVersion` too), possibly followed by spaces, `:`,
 * `=`, `(` or quotes, right before `i`.
 */
export function introducedAsVersion(text: string, i: number, from: number): boolean {
  let j = i;
  while (j > from && j > i - 4) {
    const c = text.charCodeAt(j - 1);
    if (c === 0x20 || c === 0x3a || c === 0x3d || c === 0x28 || c === 0x22 || c === 0x27) j--;
    else break;
  }
  const head = text.slice(Math.max(from, j - 7), j).toLowerCase();
  return head.endsWith('version') || head.endsWith('ver');
}
