import { EgressRefusedError } from '../errors/index.js';

/**
 * The response with its body cut off (an error) once more than `maxBytes` arrived. A declared
 * Content-Length above the limit is refused before any body is read; otherwise bytes are
 * counted while streaming, so a server that lies about or omits the length is still bounded.
 */
export async function limitResponse(response: Response, maxBytes: number, onExceeded: (error: EgressRefusedError) => EgressRefusedError): Promise<Response> {
  const tooLarge = () => onExceeded(new EgressRefusedError('egress.response_too_large', `the response was larger than ${maxBytes} bytes`));
  await refuseDeclaredTooLarge(response, maxBytes, tooLarge);
  if (!response.body || [204, 205, 304].includes(response.status)) return response;
  let seen = 0;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * The whole body as bytes, refused (and the stream cancelled) once more than `maxBytes`
 * arrived. Cheaper than `limitResponse` when the caller wants the bytes anyway: no second
 * stream, no second Response.
 */
export async function readLimited(response: Response, maxBytes: number, onExceeded: (error: EgressRefusedError) => EgressRefusedError): Promise<Uint8Array> {
  const tooLarge = () => onExceeded(new EgressRefusedError('egress.response_too_large', `the response was larger than ${maxBytes} bytes`));
  await refuseDeclaredTooLarge(response, maxBytes, tooLarge);
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(seen);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** A declared Content-Length above the limit is refused before any body is read (the body is cancelled). */
async function refuseDeclaredTooLarge(response: Response, maxBytes: number, tooLarge: () => EgressRefusedError): Promise<void> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
}
