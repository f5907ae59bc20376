import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { KeyUse, SigningKeyRecord, SigningKeyStore } from '../storage/index.js';

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
}

/** Creates a new Ed25519 key record; the kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(use: KeyUse, now = Date.now()): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    use,
    alg: 'EdDSA',
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }),
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg: 'EdDSA', use: 'sig' }),
    createdAt: now,
    retiredAt: null,
    expiresAt: null,
  };
}

/**
 * The signing keys for one purpose. One key signs; retired keys keep verifying until the
 * last token they signed has expired (`expiresAt`), which is what makes rotation safe.
 */
export class KeyRing {
  #records: SigningKeyRecord[] = [];
  #verifyKeys = new Map<string, CryptoKey>();
  #active: ActiveKey | undefined;
  #lastReload = 0;

  constructor(
    private readonly store: SigningKeyStore,
    readonly use: KeyUse,
  ) {}

  /** Loads keys, creating the first one if none is active. */
  async init(): Promise<this> {
    await this.store.insertIfNoActive(await generateSigningKey(this.use));
    await this.reload();
    return this;
  }

  async reload(): Promise<void> {
    const now = Date.now();
    this.#records = (await this.store.list(this.use)).filter((r) => r.expiresAt === null || r.expiresAt > now);
    const verifyKeys = new Map<string, CryptoKey>();
    for (const record of this.#records) verifyKeys.set(record.kid, (await importJWK(JSON.parse(record.publicJwk) as JWK, 'EdDSA')) as CryptoKey);
    this.#verifyKeys = verifyKeys;
    const active = this.#records.find((r) => r.retiredAt === null);
    this.#active = active ? { kid: active.kid, key: (await importJWK(JSON.parse(active.privateJwk) as JWK, 'EdDSA')) as CryptoKey } : undefined;
    this.#lastReload = now;
  }

  signingKey(): ActiveKey {
    if (!this.#active) throw new Error(`no active ${this.use} signing key; call init() first`);
    return this.#active;
  }

  /** The verification key for `kid`, reloading from storage (at most once a second) if unknown. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const known = this.#verifyKeys.get(kid);
    if (known || Date.now() - this.#lastReload < 1000) return known;
    await this.reload();
    return this.#verifyKeys.get(kid);
  }

  /** The active key as a private JWK (JSON text), for an issuer that needs the raw key (the authorization server). */
  signingRecordPrivateJwk(): string {
    const active = this.#records.find((r) => r.retiredAt === null);
    if (!active) throw new Error(`no active ${this.use} signing key; call init() first`);
    return active.privateJwk;
  }

  /** Public keys for a JWKS document. */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.#records.map((r) => JSON.parse(r.publicJwk) as JWK) };
  }

  /** Starts signing with a fresh key; the old one verifies for `verifyFor` ms more. */
  async rotate(verifyFor: number): Promise<string> {
    const now = Date.now();
    const previous = this.#active?.kid;
    const next = await generateSigningKey(this.use, now);
    await this.store.insert(next);
    if (previous) await this.store.retire(previous, now, now + verifyFor);
    await this.reload();
    return next.kid;
  }
}
