import { describe, expect, it } from 'vitest';
import { pemBlock, secretExamples } from '../../../test/fixtures/sanitize/secret-examples.js';
import { findJwts } from './jwt.js';
import { findPemPrivateKeys } from './pem.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function jwts(text: string): string[] {
  const out: string[] = [];
  findJwts(text, 0, text.length, (s, e) => out.push(text.slice(s, e)));
  return out;
}

function pems(text: string): string[] {
  const out: string[] = [];
  findPemPrivateKeys(text, 0, text.length, (s, e) => out.push(text.slice(s, e)));
  return out;
}

describe('findJwts', () => {
  const header = b64url({ alg: 'HS256', typ: 'JWT' });
  const payload = b64url({ sub: '1234567890', name: 'Alice', iat: 1516239022 });
  const token = `${header}.${payload}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;

  it('finds a JWS in context, whole', () => {
    expect(jwts(`Authorization: Bearer ${token}\n`)).toEqual([token]);
    expect(jwts(`{"id_token":"${token}","x":1}`)).toEqual([token]);
    expect(jwts(`Bearer%20${token}&next=1`)).toEqual([token]);
  });

  it('finds unsecured (alg none) tokens and five-part JWEs', () => {
    const none = `${b64url({ alg: 'none' })}.${payload}.`;
    expect(jwts(`t=${none} `)).toEqual([none]);
    const jwe = `${b64url({ alg: 'dir', enc: 'A128GCM' })}..${b64url('iv-bytes-12')}.${b64url('ciphertext here')}.${b64url('tag-16-bytes-xx')}`;
    expect(jwts(jwe)).toEqual([jwe]);
  });

  it('spares dotted identifiers and base64 that is not a JOSE header', () => {
    expect(jwts('eyJ.foo.bar')).toEqual([]); // header does not decode to JSON
    expect(jwts(`${b64url({ typ: 'JWT' })}.${payload}.sig`)).toEqual([]); // no alg
    expect(jwts(`${b64url([1, 2])}.${payload}.sig`)).toEqual([]); // not an object
    expect(jwts(`${header}..sig`)).toEqual([]); // empty payload
    expect(jwts(`${header}.${payload}`)).toEqual([]); // two parts
    expect(jwts('com.example.eyJapp.Main')).toEqual([]);
    expect(jwts(`${'A'.repeat(10)}${header}.${payload}.sig`)).toEqual([]); // deep inside another token
  });

  it('stays within [from, to)', () => {
    const text = `xx ${token} yy`;
    const out: [number, number][] = [];
    findJwts(text, 3, 3 + header.length + 5, (s, e) => out.push([s, e]));
    expect(out).toEqual([]);
  });
});

describe('findPemPrivateKeys', () => {
  const body = `MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAq7BFUpkGp3+XQmsRqUIA${'Ab9+Z7/2'.repeat(30)}`;

  it('finds the blocks the preset rule passes over: encrypted, PGP, truncated, escaped newlines', () => {
    const encrypted = pemBlock('ENCRYPTED PRIVATE KEY', body);
    expect(pems(`key:\n${encrypted}\nend`)).toEqual([encrypted]);
    const legacy = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n${body}\n-----END RSA PRIVATE KEY-----`;
    expect(pems(legacy)).toEqual([legacy]);
    const pgp = secretExamples().find((x) => x.secret.includes('PGP PRIVATE KEY BLOCK'))!.secret;
    expect(pems(pgp)).toEqual([pgp]);
    const truncated = `-----BEGIN PRIVATE KEY-----\n${body.slice(0, 200)}`;
    expect(pems(`${truncated}\n[output truncated]`)).toEqual([truncated]);
    const escaped = `{"key":"-----BEGIN PRIVATE KEY-----\\n${body}\\n-----END PRIVATE KEY-----\\n"}`;
    expect(pems(escaped)).toEqual([escaped.slice(8, escaped.indexOf('-----END') + 25)]);
  });

  it('spares placeholders, public keys and certificates', () => {
    expect(pems('-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----')).toEqual([]);
    expect(pems('-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----')).toEqual([]);
    expect(pems(pemBlock('PUBLIC KEY', body))).toEqual([]);
    expect(pems(pemBlock('CERTIFICATE', body))).toEqual([]);
    expect(pems('-----BEGIN PRIVATE KEY----- short -----END PRIVATE KEY-----')).toEqual([]);
  });
});
