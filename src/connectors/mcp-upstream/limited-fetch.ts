import type { Agent } from 'undici';
import { loadUndici } from '../../util/undici.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

export interface LimitedFetchOptions {
  /** Largest response body accepted; bigger responses are cut off with an error. */
  maxResponseBytes: number;
  connectTimeoutMs: number;
  /** Time to wait for response headers. */
  headersTimeoutMs: number;
  /** Longest silence while a body streams (SSE keeps this alive with its own keep-alives). */
  bodyTimeoutMs: number;
  /**
   * Called with the JSON-RPC request ids of a POST whose response stream was cut off at the
   * limit. An SSE stream that errors leaves its requests pending in the SDK client until they
   * time out; the caller answers them at once instead.
   */
  onLimitExceeded?: (requestIds: (string | number)[]) => void;
}

/** The ids of the JSON-RPC requests in a POST body (a message or a batch). */
function requestIds(body: unknown): (string | number)[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed])
      .filter((m): m is { id: string | number; method: string } => typeof m === 'object' && m !== null && 'method' in m && 'id' in m)
      .map((m) => m.id);
  } catch {
    return [];
  }
}

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`upstream response exceeded ${limit} bytes`);
  }
}

/**
 * A fetch for remote upstreams: undici keep-alive pool, connect/header/body timeouts, and a
 * hard cap on response size so an upstream cannot exhaust the gateway's memory. For SSE
 * streams the cap applies per stream, which bounds every single message too.
 */
export function createLimitedFetch(options: LimitedFetchOptions): { fetch: FetchLike; close: () => Promise<void> } {
  let dispatcher: Agent | undefined;
  const limitedFetch: FetchLike = async (url, init) => {
    const undici = await loadUndici();
    dispatcher ??= new undici.Agent({
      keepAliveTimeout: 30_000,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      connections: 64,
    });
    const response = (await undici.fetch(url, { ...(init as object), dispatcher } as Parameters<typeof undici.fetch>[1])) as unknown as Response;
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxResponseBytes) {
      await response.body?.cancel();
      throw new ResponseTooLargeError(options.maxResponseBytes);
    }
    if (!response.body) return response;
    let seen = 0;
    const limited = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > options.maxResponseBytes) {
            options.onLimitExceeded?.(requestIds((init as { body?: unknown } | undefined)?.body));
            controller.error(new ResponseTooLargeError(options.maxResponseBytes));
          } else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch: limitedFetch, close: async () => dispatcher?.close() };
}
