import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createGuardedFetch, type EgressGuard } from '../../egress/index.js';

export interface LimitedFetchOptions {
  /** Decides every connection (hosts, addresses, each redirect hop). */
  guard: EgressGuard;
  /** Configured header names that carry credentials: dropped on a redirect to another origin. */
  credentialHeaders?: readonly string[];
  /** Hosts whose certificate is not verified (`egress.dangerouslyAllowInsecureTls`). */
  dangerouslyAllowInsecureTls?: readonly string[] | undefined;
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
 * A fetch for remote upstreams: the egress guard's fetch (allowed hosts and addresses only,
 * pinned lookup, redirects re-checked hop by hop with credentials kept to the origin),
 * connect/header/body timeouts, and a hard cap on response size so an upstream cannot
 * exhaust the gateway's memory. For SSE streams the cap applies per stream, which bounds
 * every single message too.
 */
export function createLimitedFetch(options: LimitedFetchOptions): { fetch: FetchLike; close: () => Promise<void> } {
  const guarded = createGuardedFetch({
    guard: options.guard,
    // Counted below, where the ids of a cut-off request are known.
    maxResponseBytes: Number.POSITIVE_INFINITY,
    // An event stream lives as long as the session: silence is bounded, not the whole exchange.
    timeoutMs: 0,
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs,
    redirects: { max: 5, credentialHeaders: options.credentialHeaders },
    connections: 64,
    dangerouslyAllowInsecureTls: options.dangerouslyAllowInsecureTls,
  });
  const limitedFetch: FetchLike = async (url, init) => {
    const response = await guarded.fetch(url, init);
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
  return { fetch: limitedFetch, close: guarded.close };
}
