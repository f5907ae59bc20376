import { IncomingMessage } from 'node:http';

/** What `readBounded` found. `drained`: the whole body was read (and dropped), so the connection can stay open. */
export type BoundedBody = { bytes: Buffer } | { tooLarge: true; drained: boolean };

/**
 * Reads a request body up to `maxBytes`. A body over the limit is read on and dropped up to
 * `drainBytes` (so an ordinary client gets its answer instead of a reset connection); one
 * larger than that (declared or sent) is not read further, and the caller answers with
 * `Connection: close`. The stream is never destroyed here: the response still goes out on
 * its socket.
 */
export async function readBounded(req: IncomingMessage, maxBytes: number, drainBytes = maxBytes): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > drainBytes) return { tooLarge: true, drained: false };
  const parts: Buffer[] = [];
  let seen = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    seen += chunk.byteLength;
    if (seen > drainBytes) return { tooLarge: true, drained: false };
    if (seen <= maxBytes) parts.push(chunk);
  }
  if (seen > maxBytes) return { tooLarge: true, drained: true };
  return { bytes: Buffer.concat(parts, seen) };
}

/**
 * A request object carrying the same method, URL, headers and socket as `req`, whose body is
 * `body` (already read from `req`): for handing a request whose body was checked first to a
 * handler that reads the stream itself (oidc-provider's Koa app). Nothing is read from the
 * socket for it.
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new IncomingMessage(req.socket);
  replay.method = req.method as string;
  replay.url = req.url as string;
  replay.headers = req.headers;
  replay.rawHeaders = req.rawHeaders;
  replay.httpVersion = req.httpVersion;
  replay.httpVersionMajor = req.httpVersionMajor;
  replay.httpVersionMinor = req.httpVersionMinor;
  replay.complete = true;
  replay._read = () => undefined;
  if (body.byteLength > 0) replay.push(body);
  replay.push(null);
  return replay;
}
