import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scramSha256Verifier } from './scram.js';

describe('scramSha256Verifier', () => {
  it('produces a verifier that checks the RFC 7677 example exchange', () => {
    const verifier = scramSha256Verifier('pencil', { iterations: 4096, salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64') });
    const match = /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$([^:]+):(.+)$/.exec(verifier);
    expect(match).not.toBeNull();
    const storedKey = Buffer.from(match?.[1] as string, 'base64');
    const serverKey = Buffer.from(match?.[2] as string, 'base64');
    // RFC 7677 §3: the exchange for user "user", password "pencil".
    const authMessage =
      'n=user,r=rOprNGfwEbeRWgbNEkqO,' +
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,' +
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    // What the server does with a verifier: recover ClientKey from the proof and compare its hash.
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (clientSignature[i] as number)));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('salts every verifier and refuses non-ASCII passwords', () => {
    expect(scramSha256Verifier('same')).not.toBe(scramSha256Verifier('same'));
    expect(() => scramSha256Verifier('pässword')).toThrow('only printable ASCII passwords are supported');
  });
});
