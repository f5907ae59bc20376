/**
 * The gateway ↔ connector channel's framing: a 4-byte big-endian length, then that many bytes
 * of UTF-8 JSON. A length above the limit ends the channel: a peer that announces one cannot
 * be resynchronised, and reading it whole would let it exhaust memory.
 */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export class FrameError extends Error {}

export function encodeFrame(message: unknown, maxBytes = MAX_FRAME_BYTES): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.byteLength > maxBytes) throw new FrameError(`message of ${body.byteLength} bytes exceeds the channel limit of ${maxBytes}`);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.byteLength, 0);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into parsed JSON messages. Throws FrameError on an oversized or unparsable frame. */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
    const out: unknown[] = [];
    for (;;) {
      if (this.#length < 4) break;
      const buffer = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
      this.#chunks = [buffer];
      const size = buffer.readUInt32BE(0);
      if (size > this.maxBytes) throw new FrameError(`frame of ${size} bytes exceeds the channel limit of ${this.maxBytes}`);
      if (buffer.byteLength < 4 + size) break;
      const text = buffer.subarray(4, 4 + size).toString('utf8');
      const rest = buffer.subarray(4 + size);
      this.#chunks = rest.byteLength > 0 ? [rest] : [];
      this.#length = rest.byteLength;
      try {
        out.push(JSON.parse(text));
      } catch {
        throw new FrameError('a frame is not valid JSON');
      }
    }
    return out;
  }
}
