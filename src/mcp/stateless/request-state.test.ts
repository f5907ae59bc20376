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

  it('refuses a state sealed by another process (another node, or before a restart) as issued elsewhere, even under the same key', () => {
    const key = randomBytes(32);
    const mine = new RequestStateSealer(key, () => 0);
    expect(mine.open(new RequestStateSealer(randomBytes(32), () => 0).seal(claims), binding)).toEqual({ problem: 'issued_elsewhere' });
    expect(mine.open(new RequestStateSealer(key, () => 0).seal(claims), binding)).toEqual({ problem: 'issued_elsewhere' });
    // Checked before the binding: nothing about the state's user or request is revealed.
    expect(mine.open(new RequestStateSealer(randomBytes(32), () => 0).seal({ ...claims, sub: 'bob' }), binding)).toEqual({ problem: 'issued_elsewhere' });
  });

  it('refuses a state whose issuer was swapped for this sealer’s, and malformed input, before any check of its content', () => {
    const mine = new RequestStateSealer(randomBytes(32), () => 0);
    const theirs = new RequestStateSealer(randomBytes(32), () => 0);
    // Someone else's state with this node's issuer copied in: the tag does not verify.
    const forged = Buffer.from(theirs.seal(claims), 'base64url');
    Buffer.from(mine.seal(claims), 'base64url').copy(forged, 1, 1, 9);
    expect(mine.open(forged.toString('base64url'), binding)).toEqual({ problem: 'tampered' });
    for (const bad of [
      undefined,
      7,
      '',
      'not base64!',
      'AA',
      'x'.repeat(MAX_REQUEST_STATE_LENGTH + 1),
      Buffer.from([1, ...randomBytes(40)]).toString('base64url'),
      Buffer.from([3, ...randomBytes(40)]).toString('base64url'),
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
        // A changed issuer reads as another process's state: "send the request again", nothing more.
        const allowed = index >= 1 && index <= 8 ? ['issued_elsewhere'] : ['tampered', 'malformed'];
        expect('problem' in outcome && allowed.includes(outcome.problem)).toBe(true);
      }),
    );
  });

  it('insists on a 32-byte key', () => {
    expect(() => new RequestStateSealer(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
