import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpAuthCallContext } from '../../src/connectors/http/auth-port.js';
import { ConnectionRequiredError } from '../../src/connectors/http/auth/errors.js';
import type { UserOAuthProvider } from '../../src/connectors/http/auth/user-oauth.js';
import type { ClientChannel } from '../../src/pipeline/types.js';
import type { Principal } from '../../src/tokens/index.js';
import { ROOT } from '../helpers/cli-process.js';
import { CALLBACK, CLIENT_SECRET_NAME, connectionWorld, type ConnectionWorld } from '../helpers/connections.js';
import { FakeOAuthProvider } from '../helpers/fake-oauth-provider.js';

const CLIENT_SECRET = 'downstream-client-secret-value-7f3a9c';

function principal(sub: string): Principal {
  return {
    sub,
    groups: [],
    clientId: 'agent',
    scopes: [],
    jti: `jti-${sub}`,
    issuedAt: 0,
    expiresAt: Date.now() + 60_000,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: {},
  };
}

function callContext(sub: string, client?: ClientChannel): HttpAuthCallContext {
  return { user: principal(sub), server: 'items', tool: 'list_items', requestId: 'r1', signal: new AbortController().signal, client };
}

const request = { method: 'GET', url: new URL('http://api.test/items') };

describe('userOAuth connections against a real OAuth provider (oidc-provider on loopback)', () => {
  let idp: FakeOAuthProvider;
  let world: ConnectionWorld;
  let items: UserOAuthProvider;
  let authConfig: Record<string, unknown>;

  beforeEach(async () => {
    idp = await FakeOAuthProvider.start({ redirectUri: CALLBACK, clientSecret: CLIENT_SECRET });
    world = await connectionWorld({ secrets: { [CLIENT_SECRET_NAME]: CLIENT_SECRET } });
    authConfig = {
      issuer: idp.issuer,
      dangerouslyAllowHttp: true,
      clientId: 'gatehouse-downstream',
      clientSecret: `vault:${CLIENT_SECRET_NAME}`,
      scopes: ['openid', 'offline_access', 'items:read'],
      displayName: 'Items Cloud',
    };
    items = world.provider('items', authConfig);
  });

  afterEach(async () => {
    await world.close();
    await idp.stop();
  });

  /** What the /connections page and the provider's redirect do: start, sign in at the provider, finish. */
  async function connect(provider: UserOAuthProvider, user: string, sessionId = 'browser-session-1') {
    idp.current = user;
    const authorizationUrl = await provider.startConnect(user, sessionId);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(CALLBACK);
    const callback = await idp.authorize(authorizationUrl);
    const pending = await world.storage.connections.takePending(callback.searchParams.get('state') as string, Date.now());
    expect(pending?.sessionId).toBe(sessionId);
    return provider.finishConnect(callback, pending as NonNullable<typeof pending>);
  }

  async function expireStoredAccessToken(user: string) {
    world.storage.sql.statement('UPDATE connections SET access_expires_at = ? WHERE user = ?').run(Date.now() - 1000, user);
  }

  it('a user without a connection gets the connections URL (no token request, no token), and after connecting the same call works', async () => {
    const refused = await items.authorize(request, callContext('alice')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectionRequiredError);
    const error = refused as ConnectionRequiredError;
    expect(error.code).toBe('connection.required');
    expect(error.rpcCode).toBe(-32042);
    expect(error.message).toContain('http://gatehouse.test/connections?server=items');
    expect(error.message).toContain('Items Cloud');
    expect(error.data).toMatchObject({
      reason: 'connection_required',
      server: 'items',
      elicitations: [{ mode: 'url', url: 'http://gatehouse.test/connections?server=items' }],
    });
    expect(idp.grants.size).toBe(0);

    const record = await connect(items, 'alice');
    expect(record.scopes).toEqual(expect.arrayContaining(['items:read']));
    expect(record.refreshToken).not.toBeNull();
    const credentials = await items.authorize(request, callContext('alice'));
    const token = (credentials.headers?.authorization as string).replace(/^Bearer /, '');
    expect(await idp.accessTokenValid(token)).toBe(true);
    // Another user is still not connected: alice's token is never theirs.
    await expect(items.authorize(request, callContext('bob'))).rejects.toBeInstanceOf(ConnectionRequiredError);
    const kinds = (await world.auditBodies()).map((r) => r.kind);
    expect(kinds).toContain('connection.connected');
  });

  it('a client with URL-mode elicitation is sent to the page; the call continues once the user has connected', async () => {
    const elicited: { url: string; mode: string }[] = [];
    const completed: string[] = [];
    const client: ClientChannel = {
      elicitation: { form: false, url: true },
      async elicit(params) {
        elicited.push(params as never);
        // The person opens the page and connects while the call waits.
        setTimeout(() => void connect(items, 'alice'), 50);
        return { action: 'accept' };
      },
      async elicitationComplete(id) {
        completed.push(id);
      },
    };
    const credentials = await items.authorize(request, callContext('alice', client));
    expect(elicited).toEqual([expect.objectContaining({ mode: 'url', url: 'http://gatehouse.test/connections?server=items' })]);
    expect(completed).toHaveLength(1);
    expect(await idp.accessTokenValid((credentials.headers?.authorization as string).slice(7))).toBe(true);

    // A client that declines gets the error naming the URL, not a hang.
    const declining: ClientChannel = { ...client, elicit: async () => ({ action: 'decline' }) };
    const error = await items.authorize(request, callContext('bob', declining)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionRequiredError);
  });

  it('50 concurrent calls with an expired token cause exactly one refresh; the rotated refresh token is persisted before use', async () => {
    await connect(items, 'alice');
    const before = await world.storage.connections.get('alice', 'items');
    await expireStoredAccessToken('alice');
    const fresh = world.provider('items', authConfig); // a process that has nothing in memory
    const results = await Promise.all(Array.from({ length: 50 }, () => fresh.authorize(request, callContext('alice'))));
    expect(idp.count('refresh_token')).toBe(1);
    expect(fresh.refreshes).toBe(1);
    const tokens = new Set(results.map((r) => r.headers?.authorization));
    expect(tokens.size).toBe(1);
    expect(await idp.accessTokenValid(([...tokens][0] as string).slice(7))).toBe(true);

    const after = await world.storage.connections.get('alice', 'items');
    expect(after?.generation).toBe((before?.generation as number) + 1);
    // The stored refresh token is the rotated one, and it opens only as alice's for this server.
    const stored = await world.vault.openValue(`connection:${JSON.stringify(['items', 'alice'])}:refresh`, after?.refreshToken as never);
    expect(stored).toBe(idp.refreshTokens.at(-1));
    expect(stored).not.toBe(idp.refreshTokens[0]);
    await expect(world.vault.openValue(`connection:${JSON.stringify(['items', 'bob'])}:refresh`, after?.refreshToken as never)).rejects.toThrow(/could not be/);
    expect((await world.auditBodies()).filter((r) => r.kind === 'connection.refreshed')).toHaveLength(1);
  });

  it('two processes sharing the data dir: 50 concurrent calls in each cause exactly one refresh', async () => {
    await connect(items, 'alice');
    await expireStoredAccessToken('alice');
    const child = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/connection-refresher.mjs')], {
      env: {
        ...process.env,
        DATA_DIR: world.dataDir,
        KEY: world.key.toString('base64'),
        SERVER: 'items',
        USER_NAME: 'alice',
        CALLS: '50',
        AUTH_CONFIG: JSON.stringify({ type: 'userOAuth', ...authConfig }),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
    expect(await next()).toBe('ready');
    const childResult = next();
    const local = world.provider('items', authConfig);
    child.stdin.write('go\n');
    const mine = await Promise.all(Array.from({ length: 50 }, () => local.authorize(request, callContext('alice'))));
    const theirs = JSON.parse(await childResult) as { tokens: string[]; fulfilled: number; errors: string[]; refreshes: number };
    child.stdin.end();
    expect(theirs.errors).toEqual([]);
    expect(theirs.fulfilled).toBe(50);
    expect(idp.count('refresh_token')).toBe(1);
    expect(local.refreshes + theirs.refreshes).toBe(1);
    const all = new Set([...mine.map((r) => (r.headers?.authorization as string).slice(7)), ...theirs.tokens]);
    expect(all.size).toBe(1);
    expect(await idp.accessTokenValid([...all][0] as string)).toBe(true);
  });

  it('reuse of the old refresh token is detected by the provider; the gateway deletes the connection, audits invalid_grant and asks to reconnect', async () => {
    await connect(items, 'alice');
    const original = idp.refreshTokens[0] as string;
    await expireStoredAccessToken('alice');
    await world.provider('items', authConfig).accessToken('alice'); // rotates: original is now consumed
    expect(idp.count('refresh_token')).toBe(1);
    // A stolen copy of the old refresh token is replayed at the provider.
    const replay = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`gatehouse-downstream:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: original }),
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    // The provider revoked the whole family: the gateway's current refresh token is dead too.
    await expireStoredAccessToken('alice');
    const fresh = world.provider('items', authConfig);
    const error = await fresh.authorize(request, callContext('alice')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionRequiredError);
    expect((error as ConnectionRequiredError).data?.reason).toBe('connection_invalid');
    expect((error as ConnectionRequiredError).message).toContain('/connections?server=items');
    expect(await world.storage.connections.get('alice', 'items')).toBeUndefined();
    const records = await world.auditBodies();
    const invalid = records.filter((r) => r.kind === 'connection.invalid_grant');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.body).toMatchObject({ actor: { sub: 'alice' }, target: { server: 'items' } });
    // A second call does not hammer the provider: there is nothing left to refresh with.
    await expect(fresh.authorize(request, callContext('alice'))).rejects.toBeInstanceOf(ConnectionRequiredError);
    expect(idp.refreshStatuses).toEqual([200, 400, 400]);
  });

  it('disconnecting removes the tokens and revokes them at the provider (RFC 7009)', async () => {
    await connect(items, 'alice');
    const token = ((await items.authorize(request, callContext('alice'))).headers?.authorization as string).slice(7);
    const result = await world.registry.disconnect('alice', 'items', 'alice', 'page');
    expect(result).toMatchObject({ user: 'alice', server: 'items', atProvider: 'revoked' });
    expect(idp.revoked).toEqual(expect.arrayContaining([idp.refreshTokens[0], token]));
    expect(await idp.accessTokenValid(token)).toBe(false);
    expect(await world.storage.connections.get('alice', 'items')).toBeUndefined();
    await expect(items.authorize(request, callContext('alice'))).rejects.toBeInstanceOf(ConnectionRequiredError);
    expect((await world.auditBodies()).find((r) => r.kind === 'connection.revoked')?.body).toMatchObject({
      actor: { sub: 'alice' },
      target: { server: 'items' },
      connection: { user: 'alice', via: 'page', atProvider: 'revoked' },
    });
    // Revoking a user with no connections changes nothing.
    expect(await world.registry.revokeUser('alice', 'os:admin')).toEqual([]);
  });

  it('no refresh token, access token, PKCE verifier or client secret appears in logs, audit records or data-dir files in plain text', async () => {
    await connect(items, 'alice');
    await expireStoredAccessToken('alice');
    await world.provider('items', authConfig).accessToken('alice');
    await world.registry.revokeUser('alice', 'os:admin');
    await connect(items, 'alice');
    await world.audit.flush();
    expect(idp.issued.length).toBeGreaterThanOrEqual(6);
    const haystacks = {
      logs: world.logs.join('\n'),
      audit: JSON.stringify(await world.auditBodies()),
      dataDir: world.dataDirText(),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const token of [...idp.issued, CLIENT_SECRET]) {
        expect(text.includes(token), `${where} holds a credential in plain text`).toBe(false);
      }
    }
    expect(haystacks.audit).toContain('connection.connected');
  });
});
