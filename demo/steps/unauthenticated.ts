import { check, type DemoStep } from '../lib/context.ts';

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

/** Raw HTTP without a token, and with a forged one: 401 and the RFC 9728 pointer to the metadata. */
export const unauthenticatedStep: DemoStep = {
  title: 'Unauthenticated calls: 401 with WWW-Authenticate',
  async run(ctx) {
    const { ui } = ctx;
    ui.request(`POST ${ctx.mcpUrl} (initialize, no Authorization header)`);
    const res = await post(ctx.mcpUrl);
    const challenge = res.headers.get('www-authenticate');
    const body = await res.text();
    check(res.status === 401, `expected 401 without a token, got ${res.status}: ${body.slice(0, 200)}`);
    check(challenge, '401 without a WWW-Authenticate header');
    check(challenge.startsWith('Bearer ') && challenge.includes('resource_metadata='), `401 without a Bearer resource_metadata challenge: ${challenge}`);
    ui.refused(`HTTP ${res.status}`);
    ui.output(`WWW-Authenticate: ${challenge}\n${body}`);

    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    check(metadataUrl, 'WWW-Authenticate names no resource_metadata URL');
    const metadata = await fetch(metadataUrl);
    check(metadata.ok, `protected-resource metadata answered ${metadata.status}`);
    ui.request(`GET ${metadataUrl} (public, RFC 9728)`);
    ui.output(JSON.stringify(await metadata.json()));

    // alice's real token with its signature replaced: the claims look right, the signature does not verify.
    const aliceToken = ctx.tokens.get(ctx.users.alice.sub);
    check(aliceToken, 'no token for alice: the token step must run first');
    const [header, payload] = aliceToken.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`;
    ui.request(`POST ${ctx.mcpUrl} (initialize, alice's claims with a forged signature)`);
    const forgedRes = await post(ctx.mcpUrl, `Bearer ${forged}`);
    const forgedBody = await forgedRes.text();
    check(forgedRes.status === 401, `expected 401 for a forged token, got ${forgedRes.status}: ${forgedBody.slice(0, 200)}`);
    ui.refused(`HTTP ${forgedRes.status}`);
    ui.output(`WWW-Authenticate: ${forgedRes.headers.get('www-authenticate')}\n${forgedBody}`);
  },
};
