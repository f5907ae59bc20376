import { randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessTokenKey,
  auditRows,
  cleanup,
  MCP_HEADERS,
  openRawSession,
  rawHttp,
  rpcMessages,
  startEchoHttp,
  startGateway,
  waitFor,
  type EchoHttpUpstream,
  type GatewayProcess,
} from '../helpers/e2e.js';

/**
 * Forged and broken bearer tokens against a real gateway over real HTTP. Each attack uses a
 * valid session id (so only the token is wrong), and the upstream — the echo fixture serving
 * Streamable HTTP — must see nothing.
 */
describe('token attacks over real HTTP', () => {
  let upstream: EchoHttpUpstream;
  let gw: GatewayProcess;
  let key: ReturnType<typeof accessTokenKey>;
  let sessionId: string;
  let challengePrefix: string;
  let nextId = 1;

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: gw.url,
    aud: `${gw.url}/mcp`,
    sub: 'alice',
    client_id: 'gatehouse-cli',
    groups: [],
    scope: 'mcp',
    iat: now(),
    exp: now() + 300,
    jti: randomUUID(),
    ...overrides,
  });

  /** Signs with the gateway's real private key: only the named claim or header differs from a good token. */
  async function forge(claimOverrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    const privateKey = await importJWK(key.privateJwk as JWK, 'EdDSA');
    const body = Object.fromEntries(Object.entries(claims(claimOverrides)).filter(([, v]) => v !== undefined));
    return new SignJWT(body).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header }).sign(privateKey);
  }

  function unsigned(header: Record<string, unknown>, body: Record<string, unknown>): string {
    const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
    return `${enc(header)}.${enc(body)}.`;
  }

  function callWith(authorization: string | undefined, text: string) {
    return rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', ...(authorization !== undefined ? { authorization } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text } } }),
    });
  }

  beforeAll(async () => {
    upstream = await startEchoHttp();
    gw = await startGateway({
      config: {
        servers: { echo: { url: upstream.url, egress: { allowAddresses: ['127.0.0.1/32'] } } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
      },
    });
    key = accessTokenKey(gw.dataDir);
    sessionId = await openRawSession(gw, await gw.token('alice'));
    // MCP Authorization: the challenge names the metadata and the scope to ask for.
    challengePrefix = `Bearer resource_metadata="${gw.url}/.well-known/oauth-protected-resource/mcp", scope="mcp"`;
  });
  afterAll(cleanup);

  it('control: a token forged with the real key and correct claims is accepted (so each attack differs in one thing)', async () => {
    const before = (await upstream.seenHeaders()).length;
    const res = await callWith(`Bearer ${await forge()}`, 'control');
    expect(res.status).toBe(200);
    expect(rpcMessages(res)[0]).toMatchObject({ result: { content: [{ type: 'text', text: 'control' }] } });
    expect((await upstream.seenHeaders()).length).toBe(before + 1);
  });

  it('no token: 401 with only the resource metadata in the challenge (RFC 6750 §3.1), upstream untouched', async () => {
    const before = (await upstream.seenHeaders()).length;
    const res = await callWith(undefined, 'attack-missing');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challengePrefix);
    expect(res.json()).toEqual({ error_description: 'Authentication required.', code: 'auth.missing_token' });
    expect((await upstream.seenHeaders()).length).toBe(before);
  });

  const attacks: { name: string; authorization: () => Promise<string>; code: string; description: string }[] = [
    {
      name: 'expired',
      authorization: async () => `Bearer ${await forge({ iat: now() - 600, exp: now() - 300 })}`,
      code: 'auth.token_expired',
      description: 'The access token has expired.',
    },
    {
      name: 'for another audience',
      authorization: async () => `Bearer ${await forge({ aud: 'http://127.0.0.1:1/mcp' })}`,
      code: 'auth.wrong_audience',
      description: 'The access token was issued for another resource.',
    },
    {
      name: 'from another issuer',
      authorization: async () => `Bearer ${await forge({ iss: 'https://evil.example' })}`,
      code: 'auth.wrong_issuer',
      description: 'The access token was issued by an untrusted issuer.',
    },
    {
      name: 'alg: none',
      authorization: async () => `Bearer ${unsigned({ alg: 'none', typ: 'at+jwt', kid: key.kid }, claims())}`,
      code: 'auth.unsupported_alg',
      description: 'The access token uses an unsupported signing algorithm.',
    },
    {
      name: 'HS256 signed with the public JWK as the HMAC secret',
      authorization: async () =>
        `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }).sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)))}`,
      code: 'auth.unsupported_alg',
      description: 'The access token uses an unsupported signing algorithm.',
    },
    {
      name: 'HS256 signed with the raw public key bytes as the HMAC secret',
      authorization: async () =>
        `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }).sign(base64url.decode(key.publicJwk.x as string))}`,
      code: 'auth.unsupported_alg',
      description: 'The access token uses an unsupported signing algorithm.',
    },
    {
      name: 'nbf in the future',
      authorization: async () => `Bearer ${await forge({ nbf: now() + 600 })}`,
      code: 'auth.token_not_yet_valid',
      description: 'The access token is not valid yet.',
    },
    {
      name: 'signed by another Ed25519 key under the gateway’s kid',
      authorization: async () => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        return `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }).sign(privateKey)}`;
      },
      code: 'auth.invalid_signature',
      description: 'The access token signature is invalid.',
    },
    {
      name: 'signed by an unknown key',
      authorization: async () => {
        const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
        const kid = `attacker-${(await exportJWK(publicKey)).x}`;
        return `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey)}`;
      },
      code: 'auth.unknown_key',
      description: 'The access token was signed by an unknown key.',
    },
    {
      name: 'an ID token (typ JWT), not an access token',
      authorization: async () => `Bearer ${await forge({}, { typ: 'JWT' })}`,
      code: 'auth.wrong_type',
      description: 'The presented token is not an access token.',
    },
    {
      name: 'a lifetime beyond the 15 minute maximum',
      authorization: async () => `Bearer ${await forge({ exp: now() + 3600 })}`,
      code: 'auth.lifetime_too_long',
      description: 'The access token lifetime exceeds the allowed maximum.',
    },
    { name: 'garbage', authorization: async () => 'Bearer not-a-jwt', code: 'auth.malformed_token', description: 'The access token is malformed.' },
    {
      name: 'another auth scheme',
      authorization: async () => 'Basic YWxpY2U6cGFzc3dvcmQ=',
      code: 'auth.malformed_token',
      description: 'The access token is malformed.',
    },
  ];

  for (const attack of attacks) {
    it(`token ${attack.name}: 401 invalid_token with the metadata URL; the upstream saw nothing`, async () => {
      const before = (await upstream.seenHeaders()).length;
      const marker = `attack-${randomUUID()}`;
      const res = await callWith(await attack.authorization(), marker);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(`${challengePrefix}, error="invalid_token", error_description="${attack.description}"`);
      expect(res.json()).toEqual({ error: 'invalid_token', error_description: attack.description, code: attack.code });
      expect((await upstream.seenHeaders()).length).toBe(before);
      // The failure is audited; no call record mentions the attack's arguments.
      await waitFor(() => auditRows(gw.dataDir).some((r) => r.kind === 'auth.failure' && r.body.outcome?.code === attack.code), `auth.failure ${attack.code}`);
      expect(auditRows(gw.dataDir).filter((r) => r.rawBody.includes(marker))).toEqual([]);
    });
  }

  it('after all attacks the session still works with the real token, and no call record exists except the control', async () => {
    const res = await callWith(`Bearer ${await forge()}`, 'still-fine');
    expect(res.status).toBe(200);
    expect(rpcMessages(res)[0]).toMatchObject({ result: { content: [{ text: 'still-fine' }] } });
    const calls = await waitFor(() => {
      const rows = auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent');
      return rows.length === 2 ? rows : undefined;
    }, 'two intent records');
    expect(calls.map((r) => (r.body.args as { text: string }).text)).toEqual(['control', 'still-fine']);
  });
});
