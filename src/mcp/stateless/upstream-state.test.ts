import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/index.js';
import { InputRequiredBroker } from './input-required.js';
import { MAX_REQUEST_STATE_LENGTH, MAX_UPSTREAM_STATE_LENGTH, RequestStateSealer, type RequestStateBinding } from './request-state.js';

const binding: RequestStateBinding = { sub: 'alice', client: 'app', method: 'tools/call', target: 'confirm_delete', argsHash: 'sha256:x' };
const UPSTREAM_STATE = JSON.stringify({ kind: 'upstream-secret-state', account: 'acct-7781' });
const upstream = { server: 'remote', state: UPSTREAM_STATE, requests: { confirm: 'elicitation/create', pick: 'sampling/createMessage' } };
const accept = { action: 'accept', content: { ok: true } };

function setup(start = 1_000, timeoutMs = 60_000) {
  let now = start;
  const sealer = new RequestStateSealer(randomBytes(32), () => now);
  const broker = new InputRequiredBroker({ sealer, log: silentLogger(), timeoutMs, now: () => now });
  return { broker, sealer, advance: (ms: number) => (now += ms) };
}

/**
 * The requestState Gatehouse issues around a stateless upstream's own state: the upstream's
 * state travels sealed inside Gatehouse's, bound like every state Gatehouse issues, and comes
 * back out only on a valid retry.
 */
describe('upstream requestState wrapped in Gatehouse’s', () => {
  it('unwraps to the upstream’s exact state and only the answers to what was asked, on the same user, client and request', () => {
    const { broker } = setup();
    const state = broker.sealUpstream(binding, upstream);
    // Neither the upstream's state nor the binding is readable by the client.
    const raw = Buffer.from(state, 'base64url').toString('latin1');
    for (const leak of ['upstream-secret-state', 'acct-7781', 'alice', 'confirm_delete', 'remote', 'confirm']) expect(raw).not.toContain(leak);
    const held = broker.claim(state, { confirm: accept, extra: { smuggled: true } }, binding, undefined);
    expect('claim' in held && held.claim.upstream).toEqual(upstream);
    // Keys of the upstream's requests kept exactly; an answer to nothing asked is not passed on.
    expect('claim' in held && held.claim.inputResponses).toEqual({ confirm: accept });
    // No call waits in memory for it.
    expect(broker.size).toBe(0);
  });

  it('refuses a tampered state: every single altered byte, another key, truncation', () => {
    const { broker } = setup();
    const state = broker.sealUpstream(binding, upstream);
    const bytes = Buffer.from(state, 'base64url');
    for (let i = 1; i < bytes.length; i += 7) {
      const altered = Buffer.from(bytes);
      altered[i] = (altered[i] as number) ^ 0x01;
      // Bytes 1-8 name the process that sealed it: edited, the state reads as another node's
      // (the client is told to send the request again); any other byte fails the tag.
      const problem = i >= 1 && i <= 8 ? 'issued_elsewhere' : 'tampered';
      expect(broker.claim(altered.toString('base64url'), {}, binding, undefined)).toEqual({ problem });
    }
    expect(broker.claim(bytes.subarray(0, bytes.length - 1).toString('base64url'), {}, binding, undefined)).toEqual({ problem: 'tampered' });
    // Another process's key: refused before any decryption, as another node's state.
    const other = setup().broker.sealUpstream(binding, upstream);
    expect(broker.claim(other, {}, binding, undefined)).toEqual({ problem: 'issued_elsewhere' });
    // The version byte changed: not a state of this format at all.
    const versioned = Buffer.from(bytes);
    versioned[0] = (versioned[0] as number) + 1;
    expect(broker.claim(versioned.toString('base64url'), {}, binding, undefined)).toEqual({ problem: 'malformed' });
  });

  it('refuses another user, another client and another request, and none of these spends the state', () => {
    const { broker } = setup();
    const state = broker.sealUpstream(binding, upstream);
    expect(broker.claim(state, {}, { ...binding, sub: 'bob' }, undefined)).toEqual({ problem: 'wrong_principal' });
    expect(broker.claim(state, {}, { ...binding, client: 'other-app' }, undefined)).toEqual({ problem: 'wrong_principal' });
    expect(broker.claim(state, {}, { ...binding, target: 'other_tool' }, undefined)).toEqual({ problem: 'wrong_request' });
    expect(broker.claim(state, {}, { ...binding, argsHash: 'sha256:y' }, undefined)).toEqual({ problem: 'wrong_request' });
    expect(broker.claim(state, {}, { ...binding, method: 'prompts/get' }, undefined)).toEqual({ problem: 'wrong_request' });
    expect('claim' in broker.claim(state, { confirm: accept }, binding, undefined)).toBe(true);
  });

  it('refuses an expired state', () => {
    const { broker, advance } = setup(1_000, 5_000);
    const state = broker.sealUpstream(binding, upstream);
    advance(4_999);
    const fresh = broker.sealUpstream(binding, upstream);
    advance(1);
    expect(broker.claim(state, {}, binding, undefined)).toEqual({ problem: 'expired' });
    expect('claim' in broker.claim(fresh, {}, binding, undefined)).toBe(true);
  });

  it('is good for one retry: a replay is refused as not pending', () => {
    const { broker } = setup();
    const state = broker.sealUpstream(binding, upstream);
    expect('claim' in broker.claim(state, { confirm: accept }, binding, undefined)).toBe(true);
    expect(broker.claim(state, { confirm: accept }, binding, undefined)).toEqual({ problem: 'not_pending' });
    // Another state for the same request is its own.
    expect('claim' in broker.claim(broker.sealUpstream(binding, upstream), {}, binding, undefined)).toBe(true);
  });

  it('refuses answers that are not results of the kind asked, without spending the state', () => {
    const { broker } = setup();
    const state = broker.sealUpstream(binding, upstream);
    for (const responses of [[], 'yes', 7, { confirm: { action: 'maybe' } }, { pick: { action: 'accept' } }, { confirm: null }]) {
      expect(broker.claim(state, responses, binding, undefined)).toEqual({ problem: 'invalid_responses' });
    }
    expect('claim' in broker.claim(state, { pick: { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' } }, binding, undefined)).toBe(true);
  });

  it('carries an upstream state of the largest size accepted, and an absent one', () => {
    const { broker } = setup();
    const big = { ...upstream, state: 'x'.repeat(MAX_UPSTREAM_STATE_LENGTH) };
    const state = broker.sealUpstream(binding, big);
    expect(state.length).toBeLessThanOrEqual(MAX_REQUEST_STATE_LENGTH);
    const held = broker.claim(state, {}, binding, undefined);
    expect('claim' in held && held.claim.upstream?.state).toBe(big.state);
    const none = broker.claim(broker.sealUpstream(binding, { server: 'remote', requests: {} }), {}, binding, undefined);
    expect('claim' in none && none.claim.upstream).toEqual({ server: 'remote', requests: {} });
  });
});
