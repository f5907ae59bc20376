import { check, type DemoContext, type DemoStep } from '../lib/context.ts';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'curl-like', version: '1' } },
};

async function post(url: string, authorization?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(INITIALIZE),
  });
}

async function expect401(ctx: DemoContext, label: string, authorization: string | undefined, code: string): Promise<void> {
  ctx.ui.request(`POST ${ctx.mcpUrl} (initialize, ${label})`);
  const res = await post(ctx.mcpUrl, authorization);
  const body = await res.text();
  const challenge = res.headers.get('www-authenticate') ?? '';
  check(res.status === 401, `expected 401 (${label}), got ${res.status}: ${body.slice(0, 200)}`);
  check(challenge.startsWith('Bearer ') && challenge.includes('resource_metadata='), `401 without a Bearer resource_metadata challenge: ${challenge}`);
  check(body.includes(code), `expected code ${code}, got: ${body.slice(0, 200)}`);
  ctx.ui.refused(`HTTP ${res.status}  ${body}`);
}

/** Raw HTTP, as an attacker would send it: no token, a forged signature, `alg: none`. */
export const unauthenticatedStep: DemoStep = {
  title: 'Missing and forged tokens: 401 before anything else happens',
  async run(ctx) {
    await expect401(ctx, 'no Authorization header', undefined, 'auth.missing_token');
    // alice's real token with its signature replaced: the claims look right, the signature does not verify.
    const aliceToken = ctx.tokens.get(ctx.users.alice.sub);
    check(aliceToken, 'no token for alice: the OAuth step must run first');
    const [header, payload] = aliceToken.split('.');
    await expect401(
      ctx,
      "alice's claims, forged signature",
      `Bearer ${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`,
      'auth.invalid_signature',
    );
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    await expect401(ctx, "alice's claims, alg: none", `Bearer ${none}.${payload}.`, 'auth.');
    ctx.ui.say('Only EdDSA tokens signed by this gateway, for this audience (aud = /mcp), unexpired, count. Every failure is audited as auth.failure.');
  },
};
