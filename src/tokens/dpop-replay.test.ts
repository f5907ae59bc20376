import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DpopError, DpopVerifier } from './dpop.js';
import { localPrincipal, type Principal } from './principal.js';
import { MemoryReplayCache, type ReplayCache } from './replay-cache.js';

const URL_ = 'https://gatehouse.example/mcp';
const TOKEN = 'access-token-value';

async function client() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const principal: Principal = {
    ...localPrincipal({ sub: 'alice', groups: [], clientId: 'c', jti: 't', issuedAt: 0, expiresAt: 0, claims: {} }),
    dpopJkt: await calculateJwkThumbprint(jwk, 'sha256'),
  };
  const proof = (jti: string = randomUUID()) =>
    new SignJWT({ htm: 'POST', htu: URL_, ath: createHash('sha256').update(TOKEN).digest('base64url'), jti })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
  return { principal, proof };
}

const request = (proof: string) => ({ proofs: [proof], method: 'POST', url: URL_, accessToken: TOKEN });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof DpopError ? e.code : `other: ${(e as Error).message}`),
  );

describe('DPoP replay detection through the replay cache', () => {
  it('two verifiers sharing one cache (two nodes on one store): a proof accepted by one is refused by the other', async () => {
    const shared = new MemoryReplayCache();
    const nodeA = new DpopVerifier(60, shared);
    const nodeB = new DpopVerifier(60, shared);
    const { principal, proof } = await client();
    const p = await proof();
    expect(await codeOf(nodeA.verify(principal, request(p)))).toBe('accepted');
    expect(await codeOf(nodeB.verify(principal, request(p)))).toBe('auth.dpop_replay');
    expect(await codeOf(nodeA.verify(principal, request(p)))).toBe('auth.dpop_replay');
    // A fresh proof from the same key is fine on either node.
    expect(await codeOf(nodeB.verify(principal, request(await proof())))).toBe('accepted');
  });

  it('without a shared cache each node remembers only its own proofs (why a cluster must share it)', async () => {
    const nodeA = new DpopVerifier(60, new MemoryReplayCache());
    const nodeB = new DpopVerifier(60, new MemoryReplayCache());
    const { principal, proof } = await client();
    const p = await proof();
    expect(await codeOf(nodeA.verify(principal, request(p)))).toBe('accepted');
    expect(await codeOf(nodeB.verify(principal, request(p)))).toBe('accepted');
  });

  it('the same jti from two different keys are two proofs', async () => {
    const verifier = new DpopVerifier(60, new MemoryReplayCache());
    const one = await client();
    const two = await client();
    expect(await codeOf(verifier.verify(one.principal, request(await one.proof('same-jti'))))).toBe('accepted');
    expect(await codeOf(verifier.verify(two.principal, request(await two.proof('same-jti'))))).toBe('accepted');
  });

  it('an invalid proof never reaches the cache; a cache that fails refuses the proof (fail closed)', async () => {
    const seen: string[] = [];
    const failing: ReplayCache = {
      firstUse: async (key) => {
        seen.push(key);
        throw new Error('store unavailable');
      },
    };
    const verifier = new DpopVerifier(60, failing);
    const { principal, proof } = await client();
    const other = await client();
    // Signed by another key than the token is bound to: refused before any cache write.
    expect(await codeOf(verifier.verify(principal, request(await other.proof())))).toBe('auth.dpop_key_mismatch');
    expect(seen).toEqual([]);
    expect(await codeOf(verifier.verify(principal, request(await proof())))).toBe('other: store unavailable');
    expect(seen).toHaveLength(1);
  });
});
