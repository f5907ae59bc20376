import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';

describe('framing', () => {
  it('round-trips messages split and joined at any byte', () => {
    const messages = [{ a: 1 }, { text: 'ünïcødé ✓' }, [1, 2, 3], 'plain'];
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
    for (let step = 1; step <= 7; step++) {
      const decoder = new FrameDecoder();
      const out: unknown[] = [];
      for (let i = 0; i < bytes.byteLength; i += step) out.push(...decoder.push(bytes.subarray(i, i + step)));
      expect(out).toEqual(messages);
    }
  });

  it('refuses to encode a message above the limit', () => {
    expect(() => encodeFrame({ blob: 'x'.repeat(100) }, 50)).toThrow(FrameError);
  });

  it('refuses an announced length above the limit before reading the body', () => {
    const decoder = new FrameDecoder(1024);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(4 * 1024 * 1024 * 1024 - 1, 0);
    expect(() => decoder.push(head)).toThrow(/exceeds the channel limit of 1024/);
  });

  it('refuses a frame that is not JSON', () => {
    const body = Buffer.from('{nope');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.byteLength, 0);
    expect(() => new FrameDecoder().push(Buffer.concat([head, body]))).toThrow('a frame is not valid JSON');
  });
});
