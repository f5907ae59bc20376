/** The body went over its cap; nothing of it was decoded. */
export class BodyTooLarge extends Error {}

/**
 * Reads a request body up to `maxBytes` and decodes it as UTF-8; one byte more throws
 * BodyTooLarge as soon as it arrives, so an oversized body is never held whole.
 */
export async function readCapped(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const parts: Uint8Array[] = [];
  let seen = 0;
  for await (const chunk of chunks) {
    seen += chunk.byteLength;
    if (seen > maxBytes) throw new BodyTooLarge();
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}
