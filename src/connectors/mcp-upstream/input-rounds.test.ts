import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors/index.js';
import { MAX_UPSTREAM_STATE_LENGTH } from './input-rounds.js';
import type { ClientChannel } from '../../pipeline/index.js';
import { answerThroughSession, inputRequiredOf, MAX_INPUT_REQUESTS, relayableCapabilities } from './input-rounds.js';

const elicit = { method: 'elicitation/create', params: { message: 'Name?', requestedSchema: { type: 'object', properties: {} } } };

function channel(capabilities: Record<string, unknown> | undefined, answer: (method: string, params: unknown) => Record<string, unknown>) {
  const asked: { method: string; params: unknown }[] = [];
  const client: ClientChannel = {
    elicitation: { form: true, url: true },
    elicit: async () => ({ action: 'decline' }),
    elicitationComplete: async () => undefined,
    capabilities,
    request: async (method, params) => {
      asked.push({ method, params });
      return answer(method, params);
    },
  };
  return { client, asked };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof UpstreamError ? error.code : 'other';
  }
  return 'none';
};

describe('inputRequiredOf', () => {
  it('a complete result is not an InputRequiredResult', () => {
    expect(inputRequiredOf('s', { content: [] }, false)).toBeUndefined();
    expect(inputRequiredOf('s', { resultType: 'complete', content: [] }, false)).toBeUndefined();
  });

  it('keeps the upstream’s keys and state exactly', () => {
    expect(inputRequiredOf('s', { resultType: 'input_required', inputRequests: { user_name: elicit }, requestState: 'st' }, false)).toEqual({
      inputRequests: { user_name: elicit },
      requestState: 'st',
    });
    // A state alone (retry with it) is allowed.
    expect(inputRequiredOf('s', { resultType: 'input_required', requestState: 'st' }, false)).toEqual({ inputRequests: {}, requestState: 'st' });
  });

  it('refuses what Gatehouse does not relay, unbounded input and malformed shapes', () => {
    const bad = [
      { inputRequests: { a: { method: 'tools/call', params: {} } } },
      { inputRequests: { a: { method: 'roots/list' } } },
      { inputRequests: { a: { params: {} } } },
      { inputRequests: { a: { method: 'elicitation/create', params: 'x' } } },
      { inputRequests: [elicit] },
      { inputRequests: 'x' },
      { inputRequests: { '': elicit } },
      { inputRequests: { ['k'.repeat(257)]: elicit } },
      { inputRequests: Object.fromEntries(Array.from({ length: MAX_INPUT_REQUESTS + 1 }, (_, i) => [`k${i}`, elicit])) },
      { inputRequests: { a: elicit }, requestState: 7 },
      { inputRequests: { a: elicit }, requestState: 'x'.repeat(MAX_UPSTREAM_STATE_LENGTH + 1) },
      {},
    ];
    for (const result of bad)
      expect(code(() => inputRequiredOf('s', { resultType: 'input_required', ...result }, false))).toBe('upstream.invalid_input_required');
    // Roots where the server may ask for them.
    expect(inputRequiredOf('s', { resultType: 'input_required', inputRequests: { r: { method: 'roots/list' } } }, true)?.inputRequests.r).toEqual({
      method: 'roots/list',
      params: undefined,
    });
  });
});

describe('relayableCapabilities', () => {
  it('declares the client’s own capabilities, only those Gatehouse relays, roots only where allowed', () => {
    const declared = { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true }, experimental: { x: {} }, tasks: {} };
    expect(relayableCapabilities(declared, false)).toEqual({ elicitation: { form: {} }, sampling: {} });
    expect(relayableCapabilities(declared, true)).toEqual({ elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } });
    expect(relayableCapabilities(undefined, true)).toEqual({});
    expect(relayableCapabilities({ elicitation: true, sampling: null }, true)).toEqual({});
  });
});

describe('answerThroughSession', () => {
  it('asks each input request as a server→client request and keys the answers as the upstream did', async () => {
    const { client, asked } = channel({ elicitation: {}, sampling: {} }, (method) =>
      method === 'elicitation/create' ? { action: 'accept', content: { name: 'A' } } : { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' },
    );
    const answers = await answerThroughSession(
      's',
      client,
      {
        inputRequests: { user_name: { method: 'elicitation/create', params: elicit.params }, s1: { method: 'sampling/createMessage', params: {} } },
        requestState: undefined,
      },
      new AbortController().signal,
    );
    expect(Object.keys(answers)).toEqual(['user_name', 's1']);
    expect(answers.user_name).toEqual({ action: 'accept', content: { name: 'A' } });
    expect(asked.map((a) => a.method)).toEqual(['elicitation/create', 'sampling/createMessage']);
  });

  it('gives a URL-mode elicitation the id the session era requires', async () => {
    const { client, asked } = channel({ elicitation: { url: {} } }, () => ({ action: 'accept' }));
    await answerThroughSession(
      's',
      client,
      { inputRequests: { u: { method: 'elicitation/create', params: { mode: 'url', url: 'https://x', message: 'go' } } }, requestState: undefined },
      new AbortController().signal,
    );
    expect(asked[0]?.params).toMatchObject({ mode: 'url', elicitationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('never asks a client for what it did not declare (URL mode to a form-only client, sampling to none)', async () => {
    for (const [capabilities, request] of [
      [{ elicitation: { form: {} } }, { method: 'elicitation/create', params: { mode: 'url', url: 'https://x', message: 'go' } }],
      [{ elicitation: {} }, { method: 'sampling/createMessage', params: {} }],
      [undefined, elicit],
    ] as const) {
      const { client, asked } = channel(capabilities, () => ({}));
      await expect(
        answerThroughSession('s', client, { inputRequests: { k: request as never }, requestState: undefined }, new AbortController().signal),
      ).rejects.toMatchObject({ code: 'upstream.input_unavailable' });
      expect(asked).toEqual([]);
    }
  });
});
