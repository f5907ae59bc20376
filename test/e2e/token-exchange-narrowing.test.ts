import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { OAuthGateway } from '../helpers/oauth-gateway.js';
import { codeFlow, discover, insecure, MCP_HEADERS, mcpInit, register } from '../helpers/oauth4-flow.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Opens an MCP session with `token` and calls one tool; the JSON-RPC answer and the HTTP status. */
async function callTool(
  gw: OAuthGateway,
  token: string,
  name: string,
): Promise<{ status: number; body: { result?: unknown; error?: { code: number; data?: Record<string, unknown> } } }> {
  const init = await fetch(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: mcpInit() });
  expect(init.status).toBe(200);
  const sid = init.headers.get('mcp-session-id') as string;
  await init.text();
  const res = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

function exchange(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  gw: OAuthGateway,
  subject: string,
  extra: Record<string, string> = {},
) {
  return oauth.genericTokenEndpointRequest(
    as,
    client,
    auth,
    TOKEN_EXCHANGE,
    { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: gw.mcpUrl, ...extra },
    insecure,
  );
}

describe('token exchange only narrows: the reported privilege widening, replayed', () => {
  let gw: OAuthGateway;
  let as: oauth.AuthorizationServer;
  let botToken: string;
  let anonymous: oauth.Client;
  const echoCalls = () => gw.connectors[0]?.calls.length ?? 0;

  beforeAll(async () => {
    gw = await OAuthGateway.start({ access: [{ allow: { groups: ['eng'], servers: ['*'] } }] });
    await gw.addUser('alice', ['eng', 'approvers']);
    as = await discover(gw);
    // A service token the operator minted for a read-only bot acting as alice.
    const issued = await runCli(['token', 'issue', '--sub', 'alice', '--groups', 'readonly-bot', '--data-dir', gw.dataDir]);
    expect(issued.code).toBe(0);
    botToken = issued.stdout.trim();
    // Anyone can register a client, and ask for the token-exchange grant while doing so.
    anonymous = await register(as, { client_name: 'anonymous', redirect_uris: ['http://127.0.0.1:55001/cb'], grant_types: [TOKEN_EXCHANGE] });
  });
  afterAll(async () => gw.stop());

  it('the bot token is refused the call; an anonymously registered client cannot exchange it; the call stays refused', async () => {
    const before = echoCalls();
    const denied = await callTool(gw, botToken, 'echo__say');
    expect(denied.body.error).toMatchObject({ code: -32003, data: { code: 'policy.denied' } });

    const res = await exchange(as, anonymous, oauth.None(), gw, botToken);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unauthorized_client' });
    // With a narrower request, with a scope, with expires_in: the same answer, before anything else is looked at.
    for (const extra of [{ scope: 'mcp tool:echo__say' }, { expires_in: '30' }, { resource: 'https://elsewhere.example/mcp' }] as Record<string, string>[]) {
      const again = await exchange(as, anonymous, oauth.None(), gw, botToken, extra);
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: 'unauthorized_client' });
    }
    expect(await gw.auditKinds()).not.toContain('oauth.token_exchange');
    const refused = await gw.auditBodies('oauth.token_exchange_refused');
    expect(refused.length).toBe(4);
    expect(refused[0]).toMatchObject({ actor: { client: anonymous.client_id }, outcome: { status: 'denied', code: 'unauthorized_client' } });
    // The subject token itself is never written to the audit log.
    expect(JSON.stringify(refused)).not.toContain(botToken);

    expect((await callTool(gw, botToken, 'echo__say')).body.error).toMatchObject({ code: -32003, data: { code: 'policy.denied' } });
    expect(echoCalls()).toBe(before);
  });

  it("once the operator allows that client, the exchanged token carries the bot's groups (none of alice's): still refused", async () => {
    await gw.stop();
    gw = await OAuthGateway.restart(gw.dataDir, {
      access: [{ allow: { groups: ['eng'], servers: ['*'] } }],
      oauth: { tokenExchange: { clients: [anonymous.client_id] } },
    });
    as = await discover(gw);
    const fresh = (await runCli(['token', 'issue', '--sub', 'alice', '--groups', 'readonly-bot', '--data-dir', gw.dataDir])).stdout.trim();
    const narrowed = await oauth.processGenericTokenEndpointResponse(as, anonymous, await exchange(as, anonymous, oauth.None(), gw, fresh));
    const claims = decodeJwt(narrowed.access_token);
    expect(claims).toMatchObject({
      sub: 'alice',
      groups: [],
      client_id: anonymous.client_id,
      act: { sub: anonymous.client_id, act: { sub: 'gatehouse-cli' } },
    });
    expect(claims.exp as number).toBeLessThanOrEqual(decodeJwt(fresh).exp as number);
    const before = echoCalls();
    expect((await callTool(gw, narrowed.access_token, 'echo__say')).body.error).toMatchObject({ code: -32003, data: { code: 'policy.denied' } });
    expect(echoCalls()).toBe(before);
    expect((await gw.auditBodies('oauth.token_exchange')).at(-1)).toMatchObject({
      actor: { sub: 'alice', client: anonymous.client_id },
      issued: { groups: [] },
    });

    // A group the user lost since the subject token was issued is not regained either.
    const signedIn = await codeFlow(gw, as, await register(as, { client_name: 'agent', redirect_uris: ['http://127.0.0.1:55002/cb'] }));
    expect(decodeJwt(signedIn.access_token).groups).toEqual(['eng', 'approvers']);
    await gw.assembly.storage.users.update('alice', { groups: ['approvers'] }, Date.now());
    const afterLoss = await oauth.processGenericTokenEndpointResponse(as, anonymous, await exchange(as, anonymous, oauth.None(), gw, signedIn.access_token));
    expect(decodeJwt(afterLoss.access_token).groups).toEqual(['approvers']);
    // Scopes the subject does not hold are refused, not carried.
    const wider = await exchange(as, anonymous, oauth.None(), gw, signedIn.access_token, { scope: 'mcp admin-marker-77' });
    expect(wider.status).toBe(400);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
    // The refusal is audited with what would have widened, never the request's own text.
    const refusal = (await gw.auditBodies('oauth.token_exchange_refused')).at(-1);
    expect(refusal).toMatchObject({
      actor: { sub: 'alice', client: anonymous.client_id },
      outcome: { status: 'denied', code: 'invalid_scope', message: 'would widen: scope' },
    });
    expect(JSON.stringify(refusal)).not.toContain('admin-marker-77');
  });
});
