import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { check, DemoError, type DemoStep } from '../lib/context.ts';

/**
 * Revocation does not wait for expiry: `gatehouse revoke --user alice` (another process,
 * writing to the database) takes effect on the gateway's very next request. Her client's
 * access token gets 401, its refresh token is dead, and only a new sign-in helps.
 */
export const revokeStep: DemoStep = {
  title: "Instant revocation: gatehouse revoke --user alice; her agent's very next call gets 401",
  async run(ctx) {
    const { ui, paths } = ctx;
    check(ctx.signedIn, 'alice is not signed in: the OAuth step must run first');
    const { agent, recorder } = ctx.signedIn;
    const alice = ctx.users.alice;
    const token = ctx.tokens.get(alice.sub);
    check(token, 'no access token for alice');

    const revoked = await ctx.show(['revoke', '--user', alice.sub, '--reason', 'demo: laptop lost', '--data-dir', paths.dataDir], { expectExit: 0 });
    ui.ok(revoked.stdout.trim() || 'revoked');

    ui.say(`alice's agent makes its next call (its token has minutes left; the SDK client prints what it does):`);
    const from = recorder.seen.length;
    recorder.verbose = true;
    ui.request('memory__search_nodes {"query":"Gatehouse"}');
    let outcome: unknown;
    try {
      await agent.client.callTool({ name: 'memory__search_nodes', arguments: { query: 'Gatehouse' } });
      outcome = 'answered';
    } catch (error) {
      outcome = error;
    } finally {
      recorder.verbose = false;
    }
    if (!(outcome instanceof UnauthorizedError)) {
      throw new DemoError(
        `after revocation the call should fail with 401 and a failed refresh, got: ${outcome instanceof Error ? outcome.message : String(outcome)}`,
      );
    }
    const after = recorder.seen.slice(from);
    check(after[0]?.path === '/mcp' && after[0].status === 401, `the first request after revocation was not refused with 401: ${JSON.stringify(after[0])}`);
    check(
      after.some((s) => s.path === '/oauth/token' && s.grantType === 'refresh_token' && s.status === 400),
      'the refresh token still worked after revocation',
    );
    ui.refused('UnauthorizedError: the access token is refused, the refresh token is dead; alice must sign in again in her browser');

    // The same token, raw: the stable error code says why.
    const res = await fetch(ctx.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    const body = await res.text();
    check(res.status === 401 && body.includes('auth.token_revoked'), `the revoked token got ${res.status}: ${body.slice(0, 200)}`);
    ui.request(`POST ${ctx.mcpUrl} (ping, alice's last access token)`);
    ui.refused(`HTTP 401  ${body}`);
    await agent.client.close().catch(() => undefined);
    ctx.signedIn = undefined;
    ui.say('Also: --client ID (every token of one application), --session ID, --token JTI, --grant ID; `gatehouse users disable` keeps her out.');
  },
};
