import { randomUUID } from 'node:crypto';
import type { ClientCapabilities, Result } from '@modelcontextprotocol/sdk/types.js';
import { UpstreamError } from '../../errors/index.js';
import type { ClientChannel } from '../../pipeline/index.js';

/** The longest `requestState` of an upstream Gatehouse carries (an upstream's state is opaque to it; this bounds what it seals). */
export const MAX_UPSTREAM_STATE_LENGTH = 16_384;

/** Rounds of input one call to a stateless upstream may ask a session-era client for, before Gatehouse gives up. */
export const MAX_INPUT_ROUNDS = 8;
/** Input requests one InputRequiredResult may carry. */
export const MAX_INPUT_REQUESTS = 16;
/** How long a session-era client has to answer one translated request (as for a relayed one). */
const ANSWER_TIMEOUT_MS = 10 * 60_000;
const MAX_KEY_LENGTH = 256;

/** The requests an upstream may put in an InputRequiredResult, and the client capability each needs. */
const CAPABILITY_FOR: Readonly<Record<string, 'elicitation' | 'sampling' | 'roots'>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** An upstream's InputRequiredResult (mrtr §input-required-result), checked. */
export interface InputRequired {
  inputRequests: Record<string, { method: string; params: Record<string, unknown> | undefined }>;
  requestState: string | undefined;
}

const invalid = (server: string, why: string) =>
  new UpstreamError('upstream.invalid_input_required', `The upstream server "${server}" asked for client input in a form Gatehouse does not relay: ${why}.`);

/**
 * The InputRequiredResult in `result`, or undefined for a complete result. Only what Gatehouse
 * relays in the session era is accepted (elicitation, sampling, roots where the server may ask
 * for roots), bounded in number, key length and state size; anything else fails the call.
 */
export function inputRequiredOf(server: string, result: Result, forwardRoots: boolean): InputRequired | undefined {
  if (result.resultType !== 'input_required') return undefined;
  const requests = (result as { inputRequests?: unknown }).inputRequests ?? {};
  const state = (result as { requestState?: unknown }).requestState;
  if (typeof requests !== 'object' || requests === null || Array.isArray(requests)) throw invalid(server, 'inputRequests is not an object');
  const entries = Object.entries(requests);
  if (entries.length > MAX_INPUT_REQUESTS) throw invalid(server, `more than ${MAX_INPUT_REQUESTS} input requests`);
  if (state !== undefined && (typeof state !== 'string' || state.length > MAX_UPSTREAM_STATE_LENGTH)) {
    throw invalid(server, `requestState is not a string of at most ${MAX_UPSTREAM_STATE_LENGTH} characters`);
  }
  if (entries.length === 0 && state === undefined) throw invalid(server, 'neither inputRequests nor requestState');
  const inputRequests: InputRequired['inputRequests'] = {};
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw invalid(server, 'an input request key is empty or too long');
    const { method, params } = (value ?? {}) as { method?: unknown; params?: unknown };
    if (typeof method !== 'string' || !CAPABILITY_FOR[method] || (method === 'roots/list' && !forwardRoots)) {
      throw invalid(server, `input request "${key.slice(0, 64)}" is not an elicitation, sampling or permitted roots request`);
    }
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
      throw invalid(server, 'input request params are not an object');
    inputRequests[key] = { method, params: params as Record<string, unknown> | undefined };
  }
  return { inputRequests, requestState: state as string | undefined };
}

/**
 * The capabilities Gatehouse declares to a stateless upstream for a call: the client's own
 * (from its initialize, or its request's `_meta`), restricted to what Gatehouse relays. The
 * upstream then decides, as it would facing the client directly, what it may ask for
 * (and answers -32021 MissingRequiredClientCapability itself when it needs more).
 */
export function relayableCapabilities(declared: Readonly<Record<string, unknown>> | undefined, forwardRoots: boolean): ClientCapabilities {
  const caps: Record<string, unknown> = {};
  const object = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (object(declared?.elicitation)) caps.elicitation = declared?.elicitation;
  if (object(declared?.sampling)) caps.sampling = declared?.sampling;
  if (forwardRoots && object(declared?.roots)) caps.roots = declared?.roots;
  return caps as ClientCapabilities;
}

/** Has the client declared what `method` needs (an empty `elicitation` object means form mode)? */
function declares(capabilities: Readonly<Record<string, unknown>> | undefined, method: string, params: Record<string, unknown> | undefined): boolean {
  const capability = CAPABILITY_FOR[method];
  const declared = capability ? capabilities?.[capability] : undefined;
  if (typeof declared !== 'object' || declared === null) return false;
  if (method !== 'elicitation/create') return true;
  const modes = declared as Record<string, unknown>;
  if (params?.mode === 'url') return modes.url !== undefined;
  return modes.form !== undefined || Object.keys(modes).length === 0;
}

/**
 * Answers a stateless upstream's input requests through a session-era client: each becomes an
 * ordinary server→client request on the call's own response stream (through the same exit as
 * every message to the client), one after another, and the answers are keyed as the upstream
 * keyed its requests. A request the client did not declare support for fails the call rather
 * than reaching it.
 */
export async function answerThroughSession(server: string, client: ClientChannel, asked: InputRequired, signal: AbortSignal): Promise<Record<string, unknown>> {
  const request = client.request;
  if (!request) throw new UpstreamError('upstream.input_unavailable', `The upstream server "${server}" asked for client input this client cannot receive.`);
  const answers: Record<string, unknown> = {};
  for (const [key, { method, params }] of Object.entries(asked.inputRequests)) {
    if (!declares(client.capabilities, method, params)) {
      throw new UpstreamError('upstream.input_unavailable', `The upstream server "${server}" asked for ${method}, which this client did not declare.`);
    }
    // The session era identifies a URL-mode elicitation; the stateless revision dropped the id.
    const sent =
      method === 'elicitation/create' && params?.mode === 'url' && params.elicitationId === undefined ? { ...params, elicitationId: randomUUID() } : params;
    answers[key] = await request(method, sent, { signal, timeoutMs: ANSWER_TIMEOUT_MS });
  }
  return answers;
}
