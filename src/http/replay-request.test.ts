import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBounded, replayRequest, type BoundedBody } from './replay-request.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Sends `body` (chunked unless `length` is given) and hands the server side to `handle`. */
async function exchange(body: Buffer, headers: Record<string, string>, handle: (req: IncomingMessage) => Promise<string>): Promise<string> {
  server = createServer((req, res) => {
    void handle(req).then(
      (out) => res.end(out),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/r', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const describeBody = (b: BoundedBody) => ('bytes' in b ? `bytes:${b.bytes.length}` : `tooLarge:${b.drained ? 'drained' : 'closed'}`);

describe('bounded request bodies', () => {
  it('reads a body within the limit, and a replay hands the same bytes to a reader of the stream', async () => {
    const out = await exchange(Buffer.from('{"a":1}'), { 'content-type': 'application/json' }, async (req) => {
      const body = await readBounded(req, 100);
      if (!('bytes' in body)) return 'too large';
      const replay = replayRequest(req, body.bytes);
      expect(replay.readable).toBe(true);
      expect(replay.headers['content-type']).toBe('application/json');
      const chunks: Buffer[] = [];
      for await (const chunk of replay.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) chunks.push(chunk);
      return `${replay.method} ${replay.url} ${Buffer.concat(chunks).toString()}`;
    });
    expect(out).toBe('POST /r {"a":1}');
  });

  it('reports an oversized body: drained up to the drain limit, not read past it', async () => {
    expect(await exchange(Buffer.alloc(500, 'x'), { 'transfer-encoding': 'chunked' }, async (req) => describeBody(await readBounded(req, 100, 1000)))).toBe(
      'tooLarge:drained',
    );
    expect(await exchange(Buffer.alloc(5000, 'x'), { 'transfer-encoding': 'chunked' }, async (req) => describeBody(await readBounded(req, 100, 1000)))).toBe(
      'tooLarge:closed',
    );
    expect(await exchange(Buffer.alloc(50, 'x'), { 'content-length': '5000' }, async (req) => describeBody(await readBounded(req, 100, 1000)))).toBe(
      'tooLarge:closed',
    );
    expect(await exchange(Buffer.alloc(100, 'x'), { 'content-length': '100' }, async (req) => describeBody(await readBounded(req, 100, 1000)))).toBe(
      'bytes:100',
    );
  });
});
