/** Cuts `text` to at most `max` UTF-8 bytes without leaving half a character at the end. */
export function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= max
    ? text
    : bytes
        .subarray(0, max)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}
