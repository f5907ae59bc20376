import { generateKeyPairSync, createSecretKey } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, exportJWK, importJWK } from 'jose';
import { SqliteStorage } from '../storage/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessTokenVerifier } from './verify-access-token.js';
import { issueAccessToken } from './issue-access-token.js';
import { KeyRing } from './key-ring.js';
import { TokenError } from './errors.js';

const issuer = 'http://127.0.0.1:8787';
const audience = 'http://127.0.0.1:8787/mcp';
const settings = { issuer, audience, maxTtlMs: 15 * 60_000 };

async function expectCode(promise: Promise<unknown>, code: string): Promise<TokenError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  expect((error as TokenError).code).toBe(code);
  return error as TokenError;
}

describe('access tokens', () => {
  let keys: KeyRing;
  let verifier: AccessTokenVerifier;

  beforeEach(async () => {
    const storage = SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-tok-')));
    keys = await new KeyRing(storage.signingKeys, 'access-token').init();
    verifier = new AccessTokenVerifier(keys, settings);
  });

  async function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}, now = Math.floor(Date.now() / 1000)) {
    const { kid, key } = keys.signingKey();
    return new SignJWT({ client_id: 'c', iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, jti: 'j1', ...claims })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header })
      .sign(key);
  }

  it('round-trips an issued token into a principal', async () => {
    const { token, jti } = await issueAccessToken(keys, settings, { sub: 'alice', groups: ['eng'], ttlMs: 300_000, scope: 'mcp server:echo' });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ sub: 'alice', groups: ['eng'], clientId: 'gatehouse-cli', scopes: ['mcp', 'server:echo'], jti });
    expect(principal.expiresAt - principal.issuedAt).toBe(300_000);
  });

  it('refuses to issue beyond the maximum lifetime', async () => {
    await expect(issueAccessToken(keys, settings, { sub: 'a', ttlMs: 16 * 60_000 })).rejects.toThrow(/may not exceed 15 minutes/);
  });

  it('answers a missing token with auth.missing_token and no OAuth error code (RFC 6750 §3.1)', async () => {
    const error = await expectCode(verifier.verify(undefined), 'auth.missing_token');
    expect(error.oauthError).toBeUndefined();
    expect(error.status).toBe(401);
  });

  it('refuses alg none', async () => {
    const none = new UnsecuredJWT({ sub: 'alice', jti: 'x' }).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('5m').encode();
    const error = await expectCode(verifier.verify(none), 'auth.unsupported_alg');
    expect(error.oauthError).toBe('invalid_token');
  });

  it('refuses HS256 signed with the public key as the secret (key confusion)', async () => {
    const { kid } = keys.signingKey();
    const publicJwk = keys.publicJwks().keys[0] as { x: string };
    const secret = createSecretKey(Buffer.from(JSON.stringify(publicJwk)));
    const forged = await new SignJWT({ sub: 'alice', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    await expectCode(verifier.verify(forged), 'auth.unsupported_alg');
  });

  it('refuses a token signed by a key it does not know', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = await exportJWK(privateKey);
    const foreign = await new SignJWT({ sub: 'alice', jti: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'someone-else' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(jwk, 'EdDSA'));
    await expectCode(verifier.verify(foreign), 'auth.unknown_key');
  });

  it('refuses a forged signature under a known kid', async () => {
    const token = await signed({});
    const [h, p] = token.split('.');
    await expectCode(verifier.verify(`${h}.${p}.${'A'.repeat(86)}`), 'auth.invalid_signature');
  });

  it('refuses expired, not-yet-valid, wrong-audience, wrong-issuer and wrong-type tokens', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectCode(verifier.verify(await signed({}, {}, past)), 'auth.token_expired');
    await expectCode(verifier.verify(await signed({ nbf: Math.floor(Date.now() / 1000) + 600 })), 'auth.token_not_yet_valid');
    await expectCode(verifier.verify(await signed({ aud: 'https://elsewhere.example/mcp' })), 'auth.wrong_audience');
    await expectCode(verifier.verify(await signed({ iss: 'https://evil.example' })), 'auth.wrong_issuer');
    await expectCode(verifier.verify(await signed({}, { typ: 'JWT' })), 'auth.wrong_type');
  });

  it('refuses a validly signed token whose lifetime exceeds the maximum', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { kid, key } = keys.signingKey();
    const long = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('a')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .setJti('j')
      .sign(key);
    await expectCode(verifier.verify(long), 'auth.lifetime_too_long');
  });

  it('refuses garbage', async () => {
    await expectCode(verifier.verify('not.a.jwt'), 'auth.malformed_token');
  });

  it('caches a verified token but still runs per-call checks (revocation acts at once)', async () => {
    const { token, jti } = await issueAccessToken(keys, settings, { sub: 'alice', ttlMs: 300_000 });
    const revoked = new Set<string>();
    const checked = new AccessTokenVerifier(keys, settings, [
      (p) => {
        if (revoked.has(p.jti)) throw new TokenError('auth.token_revoked');
      },
    ]);
    await checked.verify(token);
    await checked.verify(token);
    revoked.add(jti);
    await expectCode(checked.verify(token), 'auth.token_revoked');
  });

  it('keeps verifying tokens from a rotated key until it expires', async () => {
    const { token } = await issueAccessToken(keys, settings, { sub: 'alice', ttlMs: 60_000 });
    const oldKid = keys.signingKey().kid;
    const newKid = await keys.rotate(15 * 60_000);
    expect(newKid).not.toBe(oldKid);
    const fresh = new AccessTokenVerifier(keys, settings);
    await expect(fresh.verify(token)).resolves.toMatchObject({ sub: 'alice' });
    expect(
      keys
        .publicJwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([oldKid, newKid].sort());
  });
});
