import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpAuthCallContext } from '../../src/connectors/http/auth-port.js';
import { clientCredentialsAuth } from '../../src/connectors/http/auth/client-credentials.js';
import { ClientCredentialsAuthSchema, TokenExchangeAuthSchema } from '../../src/config/http/auth-schemas.js';
import { CredentialUnavailableError } from '../../src/connectors/http/auth/errors.js';
import { signedSubjectTokens } from '../../src/connectors/http/auth/subject-token.js';
import { tokenExchangeAuth } from '../../src/connectors/http/auth/token-exchange.js';
import { KeyRing } from '../../src/tokens/index.js';
import { CALLBACK, CLIENT_SECRET_NAME, connectionWorld, PUBLIC_URL, type ConnectionWorld } from '../helpers/connections.js';
import { FakeOAuthProvider } from '../helpers/fake-oauth-provider.js';

const CLIENT_SECRET = 'service-client-secret-canary-0a7d';
const request = { method: 'GET', url: new URL('http://api.test/items') };
const ctx = (sub: string, tool: string) =>
  ({ user: { sub, act: ['agent-1'] }, server: 'items', tool, requestId: 'r', signal: new AbortController().signal }) as unknown as HttpAuthCallContext;

describe('service credentials against a real authorization server / STS (oidc-provider on loopback)', () => {
  let idp: FakeOAuthProvider;
  let world: ConnectionWorld;
  let keys: KeyRing;

  beforeEach(async () => {
    world = await connectionWorld({ secrets: { [CLIENT_SECRET_NAME]: CLIENT_SECRET } });
    keys = await new KeyRing(world.storage.signingKeys, 'access-token').init();
    idp = await FakeOAuthProvider.start({ redirectUri: CALLBACK, clientSecret: CLIENT_SECRET, subjectJwks: keys.publicJwks() as never });
  });

  afterEach(async () => {
    await world.close();
    await idp.stop();
  });

  it('clientCredentials: 50 concurrent callers share one token request; the token is cached, valid, and never logged', async () => {
    const auth = clientCredentialsAuth(
      'items',
      ClientCredentialsAuthSchema.parse({
        type: 'clientCredentials',
        issuer: idp.issuer,
        dangerouslyAllowHttp: true,
        clientId: 'gatehouse-downstream',
        clientSecret: `vault:${CLIENT_SECRET_NAME}`,
        scopes: ['items:read'],
      }),
      { fetch: world.egress.fetch, vault: world.vault },
    );
    const results = await Promise.all(Array.from({ length: 50 }, () => auth.authorize(request, ctx('alice', 'list'))));
    expect(idp.count('client_credentials')).toBe(1);
    expect(auth.tokenRequests).toBe(1);
    const values = new Set(results.map((r) => r.headers?.authorization));
    expect(values.size).toBe(1);
    const token = ([...values][0] as string).slice('Bearer '.length);
    expect(await idp.accessTokenValid(token)).toBe(true);
    await auth.authorize(request, ctx('bob', 'list'));
    expect(idp.count('client_credentials')).toBe(1);
    // A 401 from the API drops the cached token: the next call fetches a new one.
    await auth.invalidate?.(results[0] as never, ctx('alice', 'list'));
    await auth.authorize(request, ctx('alice', 'list'));
    expect(idp.count('client_credentials')).toBe(2);
    for (const secret of [token, CLIENT_SECRET]) expect(world.logs.join('\n').includes(secret)).toBe(false);
  });

  it('clientCredentials: a refused client is a stable error without the provider text or the secret', async () => {
    await world.vault.put('wrong-secret', 'not-the-secret');
    const auth = clientCredentialsAuth(
      'items',
      ClientCredentialsAuthSchema.parse({
        type: 'clientCredentials',
        issuer: idp.issuer,
        dangerouslyAllowHttp: true,
        clientId: 'gatehouse-downstream',
        clientSecret: 'vault:wrong-secret',
      }),
      { fetch: world.egress.fetch, vault: world.vault },
    );
    const error = (await auth.authorize(request, ctx('alice', 'list')).catch((e: unknown) => e)) as CredentialUnavailableError;
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    expect(error.code).toBe('credentials.token_endpoint');
    expect(error.message).toBe('The token endpoint for items refused or failed the request.');
    expect(error.detail).toMatchObject({ oauthError: 'invalid_client' });
  });

  it('token endpoints go through the egress guard: a loopback STS without an allowance is refused before any request', async () => {
    const { createGuardedFetch, EgressGuard } = await import('../../src/egress/index.js');
    const blocked: string[] = [];
    const strict = createGuardedFetch({
      guard: new EgressGuard({ purpose: 'token endpoint', onBlocked: (e) => blocked.push(e.code) }),
      maxResponseBytes: 65536,
    });
    const auth = clientCredentialsAuth(
      'items',
      ClientCredentialsAuthSchema.parse({
        type: 'clientCredentials',
        tokenUrl: `${idp.issuer}/token`,
        dangerouslyAllowHttp: true,
        clientId: 'gatehouse-downstream',
        clientSecret: `vault:${CLIENT_SECRET_NAME}`,
      }),
      { fetch: strict.fetch, vault: world.vault },
    );
    await expect(auth.authorize(request, ctx('alice', 'list'))).rejects.toMatchObject({ code: 'credentials.token_endpoint' });
    expect(blocked).toEqual(['egress.address_refused']);
    expect(idp.grants.size).toBe(0);
    await strict.close();
  });

  it('tokenExchange (RFC 8693): a token per user with the audience and scopes of each tool, cached per tool, signed subject accepted by the STS', async () => {
    const auth = tokenExchangeAuth(
      'items',
      TokenExchangeAuthSchema.parse({
        type: 'tokenExchange',
        issuer: idp.issuer,
        dangerouslyAllowHttp: true,
        clientId: 'gatehouse-downstream',
        clientSecret: `vault:${CLIENT_SECRET_NAME}`,
        audience: 'https://items.example/api',
        scopes: ['items:read'],
        tools: { delete_item: { audience: 'https://items.example/admin', scopes: ['items:write'] } },
      }),
      { fetch: world.egress.fetch, vault: world.vault, subjectToken: signedSubjectTokens(keys, PUBLIC_URL) },
    );
    const [list1, list2] = await Promise.all([auth.authorize(request, ctx('alice', 'list_items')), auth.authorize(request, ctx('alice', 'list_items'))]);
    expect(list1).toEqual(list2);
    const del = await auth.authorize(request, ctx('alice', 'delete_item'));
    const bob = await auth.authorize(request, ctx('bob', 'list_items'));
    expect(idp.exchanges.map((e) => [e.sub, e.audience, e.scope])).toEqual([
      ['alice', 'https://items.example/api', 'items:read'],
      ['alice', 'https://items.example/admin', 'items:write'],
      ['bob', 'https://items.example/api', 'items:read'],
    ]);
    expect(new Set([list1?.headers?.authorization, del.headers?.authorization, bob.headers?.authorization]).size).toBe(3);
    expect(auth.exchanges).toBe(3);
    await auth.authorize(request, ctx('alice', 'delete_item'));
    expect(auth.exchanges).toBe(3);
  });

  it('tokenExchange: a subject token the STS does not trust is refused with a stable error', async () => {
    const elsewhere = await connectionWorld();
    const other = await new KeyRing(elsewhere.storage.signingKeys, 'access-token').init();
    await elsewhere.close();
    const auth = tokenExchangeAuth(
      'items',
      TokenExchangeAuthSchema.parse({
        type: 'tokenExchange',
        issuer: idp.issuer,
        dangerouslyAllowHttp: true,
        clientId: 'gatehouse-downstream',
        clientSecret: `vault:${CLIENT_SECRET_NAME}`,
        audience: 'https://items.example/api',
      }),
      { fetch: world.egress.fetch, vault: world.vault, subjectToken: signedSubjectTokens(other, PUBLIC_URL) },
    );
    const error = (await auth.authorize(request, ctx('alice', 'list_items')).catch((e: unknown) => e)) as CredentialUnavailableError;
    expect(error.code).toBe('credentials.token_endpoint');
    expect(error.detail).toMatchObject({ oauthError: 'invalid_grant' });
    expect(idp.exchanges).toEqual([]);
  });
});
