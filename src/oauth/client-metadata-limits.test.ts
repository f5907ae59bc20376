import { describe, expect, it } from 'vitest';
import { clientMetadataProblem } from './client-metadata-limits.js';

const ok = { client_name: 'Inspector', redirect_uris: ['http://127.0.0.1:6274/cb'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' };
const long = (n: number) => 'a'.repeat(n);
const key = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };

describe('client metadata limits', () => {
  it('accepts an ordinary registration', () => {
    expect(clientMetadataProblem(ok)).toBeUndefined();
    expect(clientMetadataProblem({ ...ok, client_name: long(256), contacts: ['a@example.com'], jwks: { keys: [key] } })).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a 55 KB client_name', { ...ok, client_name: long(55 * 1024) }, /larger than 16384 bytes/],
    ['a 257-character client_name', { ...ok, client_name: long(257) }, /client_name is longer than 256/],
    ['a localized client_name', { ...ok, 'client_name#fr': long(300) }, /client_name#fr is longer than 256/],
    ['a long logo_uri', { ...ok, logo_uri: `https://x.example/${long(2100)}` }, /logo_uri is longer than 2048/],
    ['a long client_uri', { ...ok, client_uri: `https://x.example/${long(2100)}` }, /client_uri is longer/],
    ['a long tos_uri', { ...ok, tos_uri: `https://x.example/${long(2100)}` }, /tos_uri is longer/],
    ['a long policy_uri', { ...ok, policy_uri: `https://x.example/${long(2100)}` }, /policy_uri is longer/],
    ['a long jwks_uri', { ...ok, jwks_uri: `https://x.example/${long(2100)}` }, /jwks_uri is longer/],
    ['21 redirect URIs', { ...ok, redirect_uris: Array.from({ length: 21 }, (_, i) => `http://127.0.0.1/${i}`) }, /redirect_uris has more than 20 entries/],
    ['one long redirect URI', { ...ok, redirect_uris: [`http://127.0.0.1/${long(2100)}`] }, /redirect_uris has an entry longer than 2048/],
    ['11 contacts', { ...ok, contacts: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }, /contacts has more than 10/],
    ['a long contact (the e-mail pattern is not linear)', { ...ok, contacts: [`${long(300)}@example.com`] }, /contacts has an entry longer than 254/],
    ['a long scope', { ...ok, scope: long(1025) }, /scope is longer than 1024/],
    ['a long software_id', { ...ok, software_id: long(257) }, /software_id is longer/],
    ['a long software_version', { ...ok, software_version: long(65) }, /software_version is longer/],
    ['a long software_statement', { ...ok, software_statement: long(8193) }, /software_statement is longer/],
    ['11 grant types', { ...ok, grant_types: Array.from({ length: 11 }, () => 'authorization_code') }, /grant_types has more than 10/],
    ['11 jwks keys', { ...ok, jwks: { keys: Array.from({ length: 11 }, () => key) } }, /jwks has more than 10 keys/],
    ['a large jwks', { ...ok, jwks: { keys: [{ ...key, x: long(9000) }] } }, /jwks is larger than 8192/],
    ['an unknown long string', { ...ok, x_custom: long(2049) }, /x_custom is longer than 2048/],
    ['an unknown large object', { ...ok, x_custom: { a: long(3000) } }, /x_custom is larger than 2048/],
    ['a long field name', { ...ok, [long(200)]: 1 }, /field names may be at most 128/],
    ['too many fields', Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, 1])), /more than 64 fields/],
  ])('refuses %s', (_name, metadata, problem) => {
    expect(clientMetadataProblem(metadata)).toMatch(problem);
    // Never phrased so oidc-provider would turn it into invalid_redirect_uri.
    expect(clientMetadataProblem(metadata)?.startsWith('redirect_uris')).toBe(false);
  });
});
