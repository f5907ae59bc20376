import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthGateway } from '../helpers/oauth-gateway.js';
import { codeFlow, discover, insecure, MCP_HEADERS, mcpInit, register } from '../helpers/oauth4-flow.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

describe('oauth4webapi as a strict, independent client', () => {
  let gw: OAuthGateway;
  let as: oauth.AuthorizationServer;

  const SUB_AGENT_SECRET = 'sub-agent-secret-3b8f27c1d9e4';

  beforeAll(async () => {
    // The sub-agent is pre-registered by the operator with the token-exchange grant (and a secret):
    // only such clients, or those listed in oauth.tokenExchange.clients, may exchange tokens.
    gw = await OAuthGateway.start(
      {
        oauth: {
          clients: [
            {
              clientId: 'sub-agent',
              clientName: 'sub-agent',
              redirectUris: ['http://127.0.0.1:50004/cb'],
              clientSecret: '${SUB_AGENT_SECRET}',
              grantTypes: [TOKEN_EXCHANGE],
            },
          ],
        },
      },
      undefined,
      { SUB_AGENT_SECRET },
    );
    await gw.addUser('alice');
    as = await discover(gw);
  });
  afterAll(async () => gw.stop());

  it('publishes RFC 8414 / OIDC discovery and RFC 9728 metadata that name each other', async () => {
    expect(as).toMatchObject({
      issuer: gw.url,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      authorization_details_types_supported: ['gatehouse_tool_call'],
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token', TOKEN_EXCHANGE]),
    });
    const oidc = await (await fetch(`${gw.url}/.well-known/openid-configuration`)).json();
    expect(oidc.issuer).toBe(gw.url);
    const prm = await (await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm).toMatchObject({ resource: gw.mcpUrl, authorization_servers: [gw.url], scopes_supported: ['mcp', 'server:echo', 'server:db'] });
    const jwks = await (await fetch(as.jwks_uri as string)).json();
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: gw.assembly.tokenKeys.signingKey().kid })]);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  it('gets a DPoP-bound token, uses it at /mcp, refreshes, introspects and revokes it (RFC 9449, 7662, 7009)', async () => {
    const client = await register(as, {
      client_name: 'strict client',
      redirect_uris: ['http://127.0.0.1:50001/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const tokens = await codeFlow(gw, as, client, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: gw.url, aud: gw.mcpUrl, sub: 'alice', client_id: client.client_id, scope: 'mcp', cnf: { jkt: expect.any(String) } });
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);

    // oauth4webapi throws on a WWW-Authenticate challenge; the refusals are asserted on its response.
    const call = (token: string, handle?: oauth.DPoPHandle) =>
      oauth
        .protectedResourceRequest(token, 'POST', new URL(gw.mcpUrl), new Headers(MCP_HEADERS), mcpInit(), { ...insecure, ...(handle ? { DPoP: handle } : {}) })
        .catch((error: unknown) => {
          if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
          throw error;
        });
    const ok = await call(tokens.access_token, DPoP);
    expect(ok.status).toBe(200);
    await ok.text();

    // A DPoP-bound token is useless as a bearer token, or with someone else's key.
    const asBearer = await call(tokens.access_token);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const stolen = await call(tokens.access_token, thief);
    expect(stolen.status).toBe(401);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_dpop_proof', code: 'auth.dpop_key_mismatch' });

    // Refresh (rotating) needs the same key.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token as string, {
        ...insecure,
        DPoP,
        additionalParameters: { resource: gw.mcpUrl },
      }),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const noKey = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token as string, {
      ...insecure,
      additionalParameters: { resource: gw.mcpUrl },
    });
    expect(noKey.status).toBe(400);
    expect(await noKey.json()).toMatchObject({ error: 'invalid_grant' });

    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, oauth.None(), refreshed.access_token, insecure),
    );
    expect(introspected).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: client.client_id,
      scope: 'mcp',
      token_type: 'DPoP',
      aud: gw.mcpUrl,
      cnf: { jkt: expect.any(String) },
    });
    const other = await register(as, { client_name: 'nosy', redirect_uris: ['http://127.0.0.1:50002/cb'] });
    const nosy = await oauth.processIntrospectionResponse(
      as,
      other,
      await oauth.introspectionRequest(as, other, oauth.None(), refreshed.access_token, insecure),
    );
    expect(nosy).toEqual({ active: false });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.access_token, insecure));
    const afterRevoke = await call(refreshed.access_token, DPoP);
    expect(afterRevoke.status).toBe(401);
    expect(await afterRevoke.json()).toMatchObject({ code: 'auth.token_revoked' });
    expect(
      await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.None(), refreshed.access_token, insecure)),
    ).toEqual({ active: false });
    expect((await gw.auditBodies('admin.revoke')).at(-1)).toMatchObject({
      actor: { sub: `client:${client.client_id}` },
      revoked: { kind: 'token', value: decodeJwt(refreshed.access_token).jti },
    });
  });

  it('exchanges a token for a narrower one carrying the act chain (RFC 8693), and refuses every widening', async () => {
    const agent = await register(as, { client_name: 'agent', redirect_uris: ['http://127.0.0.1:50003/cb'] });
    const subAgent: oauth.Client = { client_id: 'sub-agent' };
    const subAgentAuth = oauth.ClientSecretBasic(SUB_AGENT_SECRET);
    const { access_token: subject } = await codeFlow(gw, as, agent, { scope: 'mcp server:echo server:db' });
    const exchange = (params: Record<string, string>) =>
      oauth.genericTokenEndpointRequest(
        as,
        subAgent,
        subAgentAuth,
        TOKEN_EXCHANGE,
        { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: gw.mcpUrl, ...params },
        insecure,
      );

    const narrowed = await oauth.processGenericTokenEndpointResponse(as, subAgent, await exchange({ scope: 'mcp tool:echo__say', expires_in: '60' }));
    expect(narrowed).toMatchObject({ token_type: 'bearer', scope: 'mcp tool:echo__say', issued_token_type: ACCESS_TOKEN_TYPE });
    expect(narrowed.expires_in).toBeLessThanOrEqual(60);
    const claims = decodeJwt(narrowed.access_token);
    expect(claims).toMatchObject({
      sub: 'alice',
      client_id: subAgent.client_id,
      act: { sub: subAgent.client_id, act: { sub: agent.client_id } },
      groups: ['eng'],
    });
    expect(claims.exp as number).toBeLessThanOrEqual(decodeJwt(subject).exp as number);

    // The narrowed token reaches exactly echo__say.
    const init = await fetch(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${narrowed.access_token}` }, body: mcpInit() });
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id') as string;
    await init.text();
    const callTool = (name: string) =>
      fetch(gw.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${narrowed.access_token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } }),
      });
    const allowed = await callTool('echo__say');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ result: { content: [{ text: 'say:{}' }] } });
    const before = gw.connectors[1]?.calls.length;
    const outside = await callTool('db__query');
    expect(outside.status).toBe(403);
    expect(outside.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", scope="mcp tool:echo__say tool:db__query", resource_metadata="${gw.url}/.well-known/oauth-protected-resource/mcp", error_description="This token does not reach tool \\"db__query\\"; it needs scope \\"tool:db__query\\"."`,
    );
    expect(gw.connectors[1]?.calls.length).toBe(before);
    expect((await gw.auditBodies('call.denied')).at(-1)).toMatchObject({
      actor: { sub: 'alice', act: [subAgent.client_id, agent.client_id] },
      decision: { reason: 'insufficient_scope' },
    });

    // Widening, each refused with the spec's error.
    const wider = async (params: Record<string, string>) => {
      const res = await exchange(params);
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: string }).error;
    };
    expect(await wider({ scope: 'mcp server:echo server:db server:other' })).toBe('invalid_scope');
    expect(await wider({ subject_token: narrowed.access_token, scope: 'mcp server:echo' })).toBe('invalid_scope');
    expect(await wider({ subject_token: narrowed.access_token, scope: 'mcp' })).toBe('invalid_scope');
    expect(await wider({ expires_in: '3600' })).toBe('invalid_request');
    expect(await wider({ resource: 'https://elsewhere.example/mcp' })).toBe('invalid_target');
    // RFC 8693 §2.2.2: an invalid subject token is invalid_request.
    expect(await wider({ subject_token: 'not-a-token' })).toBe('invalid_request');
    expect(await wider({ scope: 'mcp server:echo openid' })).toBe('invalid_scope');
    expect(await wider({ resource: '' })).toBe('invalid_target');
    // A sub-agent bound to one tool call with argument bounds cannot loosen the bounds.
    const bound = await oauth.processGenericTokenEndpointResponse(
      as,
      subAgent,
      await exchange({
        authorization_details: JSON.stringify([{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 10 } } }]),
      }),
    );
    const loosen = await oauth.genericTokenEndpointRequest(
      as,
      subAgent,
      subAgentAuth,
      TOKEN_EXCHANGE,
      {
        subject_token: bound.access_token,
        subject_token_type: ACCESS_TOKEN_TYPE,
        resource: gw.mcpUrl,
        authorization_details: JSON.stringify([{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 1000 } } }]),
      },
      insecure,
    );
    expect(loosen.status).toBe(400);
    expect(await loosen.json()).toMatchObject({ error: 'invalid_authorization_details' });
    const grandchild = await oauth.processGenericTokenEndpointResponse(
      as,
      subAgent,
      await oauth.genericTokenEndpointRequest(
        as,
        subAgent,
        subAgentAuth,
        TOKEN_EXCHANGE,
        {
          subject_token: bound.access_token,
          subject_token_type: ACCESS_TOKEN_TYPE,
          resource: gw.mcpUrl,
          authorization_details: JSON.stringify([{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 5 } } }]),
        },
        insecure,
      ),
    );
    expect(decodeJwt(grandchild.access_token).authorization_details).toEqual([
      { type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 5 } } },
    ]);
    // A client without the grant type may not exchange at all (oidc-provider answers invalid_request).
    const plain = await oauth.genericTokenEndpointRequest(
      as,
      agent,
      oauth.None(),
      TOKEN_EXCHANGE,
      { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: gw.mcpUrl },
      insecure,
    );
    expect(plain.status).toBe(400);
    expect(await plain.json()).toMatchObject({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    // A dynamically registered client that asked for the grant is not allowed to use it (RFC 8693 §2.2.2).
    const anonymous = await register(as, { client_name: 'anonymous', redirect_uris: ['http://127.0.0.1:50005/cb'], grant_types: [TOKEN_EXCHANGE] });
    const refused = await oauth.genericTokenEndpointRequest(
      as,
      anonymous,
      oauth.None(),
      TOKEN_EXCHANGE,
      { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: gw.mcpUrl },
      insecure,
    );
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized_client' });
    // The wrong secret for the pre-registered sub-agent is a failed client authentication.
    const impostor = await oauth.genericTokenEndpointRequest(
      as,
      subAgent,
      oauth.ClientSecretBasic('not-the-secret'),
      TOKEN_EXCHANGE,
      { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: gw.mcpUrl },
      insecure,
    );
    expect(impostor.status).toBe(401);
    expect(await impostor.json()).toMatchObject({ error: 'invalid_client' });
  });
});

describe('oauth.dpop.required', () => {
  it('refuses to issue bearer tokens, and /mcp refuses tokens that are not DPoP-bound', async () => {
    const gw = await OAuthGateway.start({ oauth: { dpop: { required: true } } });
    try {
      await gw.addUser('alice');
      const as = await discover(gw);
      const prm = await (await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`)).json();
      expect(prm.dpop_bound_access_tokens_required).toBe(true);
      const client = await register(as, { redirect_uris: ['http://127.0.0.1:50011/cb'] });
      expect(client.dpop_bound_access_tokens).toBe(true);
      await expect(codeFlow(gw, as, client)).rejects.toMatchObject({ error: 'invalid_grant' });
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('EdDSA'));
      const tokens = await codeFlow(gw, as, client, { DPoP });
      expect(tokens.token_type).toBe('dpop');
      const ok = await oauth.protectedResourceRequest(tokens.access_token, 'POST', new URL(gw.mcpUrl), new Headers(MCP_HEADERS), mcpInit(), {
        ...insecure,
        DPoP,
      });
      expect(ok.status).toBe(200);
      await ok.text();
      // A bearer token from elsewhere (a stolen, unbound one) is not enough.
      const { kid, key } = gw.assembly.tokenKeys.signingKey();
      const { SignJWT } = await import('jose');
      const unbound = await new SignJWT({ sub: 'alice', client_id: client.client_id, scope: 'mcp', jti: 'j-unbound', grant_id: 'g' })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuer(gw.url)
        .setAudience(gw.mcpUrl)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
      const refused = await fetch(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${unbound}` }, body: mcpInit() });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP /);
    } finally {
      await gw.stop();
    }
  });
});
