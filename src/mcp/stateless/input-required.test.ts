import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../log/index.js';
import { INPUT_COALESCE_MS, InputRequiredBroker, type InputTransport, type StatelessRequestContext } from './input-required.js';
import { RequestStateSealer, type RequestStateBinding } from './request-state.js';

const binding: RequestStateBinding = { sub: 'alice', client: 'app', method: 'tools/call', target: 'ask_user', argsHash: 'sha256:x' };
const FORM = { elicitation: {} };

/** A transport double: records what goes to the client (send) and into the SDK (onmessage). */
class FakeTransport implements InputTransport {
  readonly sessionId = 's1';
  closed = false;
  readonly sent: JSONRPCMessage[] = [];
  readonly inbound: JSONRPCMessage[] = [];
  readonly contexts = new Map<RequestId, StatelessRequestContext>();
  onmessage = (message: JSONRPCMessage) => {
    this.inbound.push(message);
  };
  async send(message: JSONRPCMessage): Promise<void> {
    this.sent.push(message);
  }
  requestContext(id: RequestId): StatelessRequestContext | undefined {
    return this.contexts.get(id);
  }
}

const elicit = (id: number) => ({
  jsonrpc: '2.0' as const,
  id,
  method: 'elicitation/create',
  params: { message: 'Name?', requestedSchema: { type: 'object' as const, properties: {} } },
});
const tick = () => new Promise((resolve) => setImmediate(resolve));

function setup(timeoutMs = 60_000) {
  const sealer = new RequestStateSealer(randomBytes(32));
  const broker = new InputRequiredBroker({ sealer, log: silentLogger(), timeoutMs, coalesceMs: 0 });
  const transport = new FakeTransport();
  transport.contexts.set('call-1', { binding, capabilities: FORM });
  return { broker, transport, sealer };
}

async function firstRound(broker: InputRequiredBroker, transport: FakeTransport) {
  expect(broker.serverRequest(transport, elicit(0), 'call-1')).toBe(true);
  await tick();
  const answer = transport.sent.at(-1) as unknown as {
    id: RequestId;
    result: { resultType: string; inputRequests: Record<string, unknown>; requestState: string };
  };
  return answer;
}

afterEach(() => vi.useRealTimers());

describe('InputRequiredBroker', () => {
  it('answers the original request with input_required and feeds the retry answer to the waiting server request', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    expect(first.id).toBe('call-1');
    expect(first.result).toMatchObject({ resultType: 'input_required', inputRequests: { 'elicitation-1': { method: 'elicitation/create' } } });
    const held = broker.claim(first.result.requestState, { 'elicitation-1': { action: 'accept', content: {} } }, binding, FORM);
    if (!('claim' in held)) throw new Error(held.problem);
    const final = broker.resume(held.claim, new AbortController().signal);
    expect(transport.inbound).toEqual([{ jsonrpc: '2.0', id: 0, result: { action: 'accept', content: {} } }]);
    broker.lateResponse(transport, { jsonrpc: '2.0', id: 'call-1', result: { content: [{ type: 'text', text: 'done' }] } });
    await expect(final).resolves.toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(broker.size).toBe(0);
  });

  it('requests an upstream sends together arrive in several reads, and still go out in one input_required result', async () => {
    const sealer = new RequestStateSealer(randomBytes(32));
    const broker = new InputRequiredBroker({ sealer, log: silentLogger(), timeoutMs: 60_000 });
    const transport = new FakeTransport();
    transport.contexts.set('call-1', { binding, capabilities: { ...FORM, sampling: {} } });
    expect(broker.serverRequest(transport, elicit(0), 'call-1')).toBe(true);
    // The next two cross the pipe in later reads (separate turns, a few milliseconds apart).
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(transport.sent).toHaveLength(0);
    expect(broker.serverRequest(transport, elicit(1), 'call-1')).toBe(true);
    await tick();
    const sample = { jsonrpc: '2.0' as const, id: 2, method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } };
    expect(broker.serverRequest(transport, sample, 'call-1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, INPUT_COALESCE_MS + 20));
    expect(transport.sent).toHaveLength(1);
    const result = (transport.sent[0] as unknown as { result: { inputRequests: Record<string, { method: string }> } }).result;
    expect(Object.values(result.inputRequests).map((r) => r.method)).toEqual(['elicitation/create', 'elicitation/create', 'sampling/createMessage']);
    broker.closeAll('test over');
  });

  it('writes a URL-mode elicitation the stateless way: no elicitationId', async () => {
    const { broker, transport } = setup();
    transport.contexts.set('call-1', { binding, capabilities: { elicitation: { url: {} } } });
    const url = {
      jsonrpc: '2.0' as const,
      id: 9,
      method: 'elicitation/create',
      params: { mode: 'url', elicitationId: 'apr_1', url: 'https://gh/a', message: 'Confirm' },
    };
    expect(broker.serverRequest(transport, url, 'call-1')).toBe(true);
    await tick();
    expect(transport.sent[0]).toMatchObject({
      result: { inputRequests: { 'elicitation-1': { method: 'elicitation/create', params: { mode: 'url', url: 'https://gh/a', message: 'Confirm' } } } },
    });
    expect(JSON.stringify(transport.sent[0])).not.toContain('apr_1');
  });

  it('relays a final error to the retry as a JSON-RPC error', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    const held = broker.claim(first.result.requestState, {}, binding, FORM);
    if (!('claim' in held)) throw new Error(held.problem);
    const final = broker.resume(held.claim, new AbortController().signal);
    broker.lateResponse(transport, { jsonrpc: '2.0', id: 'call-1', error: { code: -32000, message: 'upstream failed' } });
    await expect(final).rejects.toMatchObject({ code: -32000, message: 'upstream failed' });
  });

  it('refuses what the request did not declare, requests related to nothing, and methods without input_required', () => {
    const { broker, transport } = setup();
    transport.contexts.set('no-caps', { binding, capabilities: {} });
    transport.contexts.set('url-only', { binding, capabilities: { elicitation: { url: {} } } });
    transport.contexts.set('list', { binding: { ...binding, method: 'tools/list' }, capabilities: FORM });
    expect(broker.serverRequest(transport, elicit(1), 'no-caps')).toBe(false);
    expect(broker.serverRequest(transport, elicit(2), 'url-only')).toBe(false);
    expect(broker.serverRequest(transport, elicit(3), 'list')).toBe(false);
    expect(broker.serverRequest(transport, elicit(4), undefined)).toBe(false);
    expect(broker.serverRequest(transport, elicit(5), 'unknown')).toBe(false);
    expect(broker.serverRequest(transport, { jsonrpc: '2.0', id: 6, method: 'sampling/createMessage', params: {} }, 'call-1')).toBe(false);
    expect(broker.serverRequest(transport, { jsonrpc: '2.0', id: 7, method: 'ping' }, 'call-1')).toBe(false);
    expect(broker.size).toBe(0);
  });

  it('caps the requests one caller may have waiting: the next one fails back to its sender', async () => {
    const sealer = new RequestStateSealer(randomBytes(32));
    const broker = new InputRequiredBroker({ sealer, log: silentLogger(), timeoutMs: 60_000, maxPerCaller: 2, coalesceMs: 0 });
    const transport = new FakeTransport();
    for (const id of ['a', 'b', 'c']) transport.contexts.set(id, { binding, capabilities: FORM });
    expect(broker.serverRequest(transport, elicit(1), 'a')).toBe(true);
    expect(broker.serverRequest(transport, elicit(2), 'b')).toBe(true);
    expect(broker.serverRequest(transport, elicit(3), 'c')).toBe(false);
    // A second request of a call already waiting is part of that call, not a new one.
    expect(broker.serverRequest(transport, elicit(4), 'a')).toBe(true);
    expect(broker.size).toBe(2);
    broker.closeAll('test');
  });

  it('a request that finishes before its input requests go out leaves nothing waiting', async () => {
    const { broker, transport } = setup();
    expect(broker.serverRequest(transport, elicit(0), 'call-1')).toBe(true);
    broker.responded(transport, { jsonrpc: '2.0', id: 'call-1', result: { content: [] } });
    await tick();
    expect(transport.sent).toEqual([]);
    expect(broker.size).toBe(0);
  });

  it('a state is good for one retry: a second presentation while the first holds it, or after, is not_pending', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    const held = broker.claim(first.result.requestState, {}, binding, FORM);
    expect('claim' in held).toBe(true);
    expect(broker.claim(first.result.requestState, {}, binding, FORM)).toEqual({ problem: 'not_pending' });
  });

  it('refuses answers of the wrong shape without taking hold', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    expect(broker.claim(first.result.requestState, { 'elicitation-1': { action: 'maybe' } }, binding, FORM)).toEqual({ problem: 'invalid_responses' });
    expect(broker.claim(first.result.requestState, ['x'], binding, FORM)).toEqual({ problem: 'invalid_responses' });
    expect(transport.inbound).toEqual([]);
    expect('claim' in broker.claim(first.result.requestState, { 'elicitation-1': { action: 'decline' } }, binding, FORM)).toBe(true);
  });

  it('times out: the waiting server request fails, the original request is cancelled, nothing stays held', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { broker, transport } = setup(1000);
    const first = await firstRound(broker, transport);
    vi.advanceTimersByTime(1001);
    expect(broker.size).toBe(0);
    expect(transport.inbound).toEqual([
      expect.objectContaining({ id: 0, error: expect.objectContaining({ code: -32001 }) }),
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-1', reason: 'the client did not retry in time' } },
    ]);
    expect(broker.claim(first.result.requestState, {}, binding, FORM)).toEqual({ problem: 'not_pending' });
  });

  it('a retry refused before it resumed lets go and cancels the waiting request', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    const held = broker.claim(first.result.requestState, {}, binding, FORM);
    if (!('claim' in held)) throw new Error(held.problem);
    held.claim.abandon('denied by policy');
    expect(broker.size).toBe(0);
    expect(transport.inbound.at(-1)).toMatchObject({ method: 'notifications/cancelled', params: { requestId: 'call-1' } });
  });

  it('a final result that arrives between rounds is collected by the next retry', async () => {
    const { broker, transport } = setup();
    const first = await firstRound(broker, transport);
    broker.lateResponse(transport, { jsonrpc: '2.0', id: 'call-1', result: { content: [] } });
    const held = broker.claim(first.result.requestState, {}, binding, FORM);
    if (!('claim' in held)) throw new Error(held.problem);
    await expect(broker.resume(held.claim, new AbortController().signal)).resolves.toEqual({ content: [] });
  });
});
