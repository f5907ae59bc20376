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

/** `text[i]` as a code unit, or -1 outside [from, to). */
export function at(text: string, i: number, from: number, to: number): number {
  return i >= from && i < to ? text.charCodeAt(i) : -1;
}
