import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_STATE_LENGTH, RequestStateSealer, type RequestStateBinding } from './request-state.js';

const binding: RequestStateBinding = { sub: 'alice', client: 'app-1', method: 'tools/call', target: 'ask_user', argsHash: 'sha256:abc' };
const claims = { ...binding, pending: 'p1', round: 1, exp: 10_000 };

describe('RequestStateSealer', () => {
  it('opens what it sealed, for the same user, client and request, before expiry', () => {
    const sealer = new RequestStateSealer(randomBytes(32), () => 9_999);
    const state = sealer.seal(claims);
    expect(sealer.open(state, binding)).toEqual({ claims });
    // Opaque: nothing of the binding is readable in the state.
    const raw = Buffer.from(state, 'base64url').toString('latin1');
    for (const leak of ['alice', 'app-1', 'ask_user', 'sha256']) expect(raw).not.toContain(leak);
    // Fresh IV each time: the same claims never seal to the same string.
    expect(sealer.seal(claims)).not.toBe(state);
  });

  it('refuses another user, another client, another request and an expired state', () => {
    const sealer = new RequestStateSealer(randomBytes(32), () => 5_000);
    const state = sealer.seal(claims);
    expect(sealer.open(state, { ...binding, sub: 'bob' })).toEqual({ problem: 'wrong_principal' });
    expect(sealer.open(state, { ...binding, client: 'app-2' })).toEqual({ problem: 'wrong_principal' });
    expect(sealer.open(state, { ...binding, method: 'prompts/get' })).toEqual({ problem: 'wrong_request' });
    expect(sealer.open(state, { ...binding, target: 'delete_all' })).toEqual({ problem: 'wrong_request' });
    expect(sealer.open(state, { ...binding, argsHash: 'sha256:other' })).toEqual({ problem: 'wrong_request' });
    const later = new RequestStateSealer(Buffer.alloc(32, 1), () => 10_000);
    expect(later.open(later.seal(claims), binding)).toEqual({ problem: 'expired' });
  });

  it('refuses a state sealed under another key, and malformed input, before any check of its content', () => {
    const mine = new RequestStateSealer(randomBytes(32), () => 0);
    const theirs = new RequestStateSealer(randomBytes(32), () => 0);
    expect(mine.open(theirs.seal(claims), binding)).toEqual({ problem: 'tampered' });
    for (const bad of [
      undefined,
      7,
      '',
      'not base64!',
      'AA',
      'x'.repeat(MAX_REQUEST_STATE_LENGTH + 1),
      Buffer.from([2, ...randomBytes(40)]).toString('base64url'),
    ]) {
      expect(mine.open(bad, binding)).toEqual({ problem: 'malformed' });
    }
  });

  it('refuses every single-bit change anywhere in a state (property)', () => {
    const sealer = new RequestStateSealer(randomBytes(32), () => 0);
    const bytes = Buffer.from(sealer.seal(claims), 'base64url');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
        const changed = Buffer.from(bytes);
        changed[index] = (changed[index] as number) ^ (1 << bit);
        const outcome = sealer.open(changed.toString('base64url'), binding);
        expect('problem' in outcome && ['tampered', 'malformed'].includes(outcome.problem)).toBe(true);
      }),
    );
  });

  it('insists on a 32-byte key', () => {
    expect(() => new RequestStateSealer(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
