import type { Channel } from './output-sanitizer.js';

type Id = string | number;

/** The channel of a JSON-RPC message on its way to the client; `methodOf` names the request a response answers. */
export function outboundChannel(message: unknown, methodOf: (id: Id) => string | undefined): Channel {
  const m = message as { id?: unknown; method?: unknown; error?: unknown };
  const method = typeof m.method === 'string' ? m.method : undefined;
  if (method !== undefined) return m.id === undefined ? { kind: 'notification', method } : { kind: 'request', method };
  const requestMethod = typeof m.id === 'string' || typeof m.id === 'number' ? methodOf(m.id) : undefined;
  return m.error !== undefined ? { kind: 'error', method: requestMethod } : { kind: 'result', method: requestMethod };
}
