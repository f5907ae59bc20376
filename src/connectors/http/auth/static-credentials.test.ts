import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secrets } from '../../../log/index.js';
import { SqliteStorage } from '../../../storage/index.js';
import { LocalKeyProvider, Vault } from '../../../vault/index.js';
import { HttpAuthConfigSchema } from '../../../config/http/auth-config.js';
import type { HttpAuthCallContext } from '../auth-port.js';
import { apiKeyAuth } from './api-key.js';
import { basicAuth } from './basic.js';
import { ApiKeyAuthSchema, BasicAuthSchema } from '../../../config/http/auth-schemas.js';
import { CredentialUnavailableError } from './errors.js';

const CANARY_KEY = 'sk_live_canary_4f0c2a9e7b1d';
const ctx = {
  user: { sub: 'alice' },
  server: 'invoices',
  tool: 'create_invoice',
  requestId: 'r',
  signal: new AbortController().signal,
} as unknown as HttpAuthCallContext;
const request = { method: 'POST', url: new URL('https://api.example.com/invoices') };

describe('apiKey and basic credentials from the vault', () => {
  let storage: SqliteStorage;
  let vault: Vault;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-static-cred-'));
    storage = SqliteStorage.open(dir);
    const key = randomBytes(32);
    vault = new Vault({ store: storage.vault, keys: () => new LocalKeyProvider(key, 'test') });
    await vault.put('invoices-key', CANARY_KEY);
    await vault.put('invoices-password', 'pa55:word');
  });
  afterEach(async () => storage.close());

  it('puts the key in the named header (with prefix) or query parameter, resolved at use, and registers it with the log redactor', async () => {
    const header = apiKeyAuth('invoices', ApiKeyAuthSchema.parse({ type: 'apiKey', name: 'Authorization', key: 'vault:invoices-key', prefix: 'Bearer ' }), {
      vault,
    });
    expect(await header.authorize(request, ctx)).toEqual({ headers: { authorization: `Bearer ${CANARY_KEY}` } });
    expect(header.secretQueryParams).toEqual([]);
    let clock = 1_000_000;
    const query = apiKeyAuth('invoices', ApiKeyAuthSchema.parse({ type: 'apiKey', in: 'query', name: 'api_key', key: 'vault:invoices-key' }), {
      vault,
      now: () => clock,
    });
    expect(await query.authorize(request, ctx)).toEqual({ query: { api_key: CANARY_KEY } });
    expect(query.secretQueryParams).toEqual(['api_key']);
    expect(secrets.scrub(`key=${CANARY_KEY}`)).not.toContain(CANARY_KEY);
    // At rest the key is only ever sealed: no data-dir file holds it in plain text.
    for (const file of readdirSync(dir)) expect(readFileSync(path.join(dir, file)).toString('latin1').includes(CANARY_KEY)).toBe(false);
    // A rotation applies within a minute (the value is cached that long), and at once after a 401.
    await vault.rotate('invoices-key', 'sk_live_rotated_value_99');
    expect(await query.authorize(request, ctx)).toEqual({ query: { api_key: CANARY_KEY } });
    clock += 60_000;
    expect(await query.authorize(request, ctx)).toEqual({ query: { api_key: 'sk_live_rotated_value_99' } });
    await vault.rotate('invoices-key', 'sk_live_rotated_again_77');
    await query.invalidate?.({ query: { api_key: 'sk_live_rotated_value_99' } }, ctx);
    expect(await query.authorize(request, ctx)).toEqual({ query: { api_key: 'sk_live_rotated_again_77' } });
  });

  it('a missing vault entry is a stable error naming neither value nor more than the server', async () => {
    const auth = apiKeyAuth('invoices', ApiKeyAuthSchema.parse({ type: 'apiKey', name: 'x-api-key', key: 'vault:absent' }), { vault });
    const error = (await auth.authorize(request, ctx).catch((e: unknown) => e)) as CredentialUnavailableError;
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    expect(error.code).toBe('credentials.unavailable');
    expect(error.message).toBe('The credential for invoices is not available.');
    expect(error.detail).toMatchObject({ vault: 'absent' });
  });

  it('refuses a vault value that would split a header (CR/LF/NUL)', async () => {
    await vault.put('bad-key', 'abc\r\nx-injected: 1');
    const auth = apiKeyAuth('invoices', ApiKeyAuthSchema.parse({ type: 'apiKey', name: 'x-api-key', key: 'vault:bad-key' }), { vault });
    const error = (await auth.authorize(request, ctx).catch((e: unknown) => e)) as CredentialUnavailableError;
    expect(error.code).toBe('credentials.unavailable');
    expect(error.message).not.toContain('x-injected');
  });

  it('basic: RFC 7617 header; a user name with ":" or control characters is refused', async () => {
    const auth = basicAuth('invoices', BasicAuthSchema.parse({ type: 'basic', username: 'svc', password: 'vault:invoices-password' }), { vault });
    expect(await auth.authorize(request, ctx)).toEqual({ headers: { authorization: `Basic ${Buffer.from('svc:pa55:word').toString('base64')}` } });
    await vault.put('odd-user', 'a:b');
    const odd = basicAuth('invoices', BasicAuthSchema.parse({ type: 'basic', username: 'vault:odd-user', password: 'vault:invoices-password' }), { vault });
    await expect(odd.authorize(request, ctx)).rejects.toMatchObject({ code: 'credentials.unavailable' });
  });

  it('configuration: secrets must be vault references; names are checked; unknown keys and types are refused', () => {
    const issues = (input: unknown) => {
      const result = HttpAuthConfigSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ type: 'apiKey', name: 'x-api-key', key: CANARY_KEY })).toEqual([expect.stringMatching(/^key: must be a vault reference/)]);
    expect(issues({ type: 'apiKey', name: 'x-api-key\r\nx-evil', key: 'vault:k' })).toEqual([expect.stringMatching(/^name: must be an HTTP header name/)]);
    expect(issues({ type: 'apiKey', name: 'Host', key: 'vault:k' })).toEqual([expect.stringMatching(/^name: this header cannot carry a credential/)]);
    expect(issues({ type: 'apiKey', in: 'query', name: 'a&b', key: 'vault:k' })).toEqual([
      expect.stringMatching(/^name: must be a plain query parameter name/),
    ]);
    expect(issues({ type: 'apiKey', name: 'x', key: 'vault:k', prefix: 'Bearer\n' })).toEqual([expect.stringMatching(/^prefix:/)]);
    expect(issues({ type: 'basic', username: 'u', password: 'hunter2' })).toEqual([expect.stringMatching(/^password: must be a vault reference/)]);
    expect(issues({ type: 'clientCredentials', clientId: 'c', clientSecret: 'vault:s' })).toEqual([expect.stringMatching(/give issuer or tokenUrl/)]);
    expect(issues({ type: 'userOAuth', clientId: 'c', tokenUrl: 'https://p.example/token' })).toEqual([expect.stringMatching(/authorizationUrl/)]);
    expect(issues({ type: 'userOAuth', issuer: 'ftp://p.example', clientId: 'c' })).not.toEqual([]);
    expect(issues({ type: 'userOAuth', issuer: 'https://p.example', clientId: 'c', scopes: ['a b'] })).not.toEqual([]);
    expect(issues({ type: 'tokenExchange', issuer: 'https://sts.example', clientId: 'c', clientSecret: 'vault:s', audience: 'api', extra: 1 })).not.toEqual([]);
    expect(issues({ type: 'kerberos' })).not.toEqual([]);
    expect(issues({ type: 'userOAuth', issuer: 'https://p.example', clientId: 'c', scopes: ['items:read'] })).toEqual([]);
  });
});
