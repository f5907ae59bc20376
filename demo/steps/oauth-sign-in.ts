import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent } from '../lib/agent.ts';
import { check, DemoError, type DemoStep } from '../lib/context.ts';
import { DemoAuthProvider, RecordingFetch } from '../lib/oauth-client.ts';

/** Where the client says the browser should come back to: a loopback port, as native clients use (RFC 8252). */
const REDIRECT_URL = 'http://127.0.0.1:53682/callback';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * The MCP Authorization flow (2025-11-25) as a real client sees it: 401 → protected-resource
 * metadata → authorization-server metadata → dynamic client registration → authorize with PKCE
 * S256 and `resource` → sign-in → consent → token → MCP session → refresh with rotation.
 */
export const oauthSignInStep: DemoStep = {
  title: 'alice signs in through OAuth 2.1, as Claude Code or Cursor would (official SDK client, scripted browser)',
  async run(ctx) {
    const { ui } = ctx;
    const alice = ctx.users.alice;
    check(alice.password, 'alice has no demo password');
    const recorder = new RecordingFetch(ctx);
    const provider = new DemoAuthProvider(ctx, REDIRECT_URL, (tokens) => ctx.tokens.set(alice.sub, tokens.access_token));
    provider.credentials = { username: alice.sub, password: alice.password };
    ui.say(`The client is given only the URL ${ctx.mcpUrl}; no token, no key.`);

    // 1-4: the first request is refused; the SDK discovers the authorization server, registers,
    // and sends the user's browser to the authorization endpoint (played by the provider).
    const first = new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), { authProvider: provider, fetch: recorder.fetch });
    let connected = false;
    try {
      await new Client({ name: 'gatehouse-demo-agent', version: '1.0.0' }).connect(first);
      connected = true;
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
    }
    if (connected) throw new DemoError('the client connected without signing in');
    // The redirect URI's handler: trade the code (with the PKCE verifier) for tokens.
    await first.finishAuth(provider.takeCode());
    provider.credentials = undefined; // from here on the client cannot sign in silently

    const sequence = recorder.seen.map((s) => `${s.method} ${s.path} ${s.status}`);
    const expected = [
      'POST /mcp 401',
      'GET /.well-known/oauth-protected-resource/mcp 200',
      'GET /.well-known/oauth-authorization-server 200',
      'POST /oauth/register 201',
    ];
    check(
      expected.every((e, i) => sequence[i] === e),
      `unexpected request sequence: ${sequence.slice(0, 4).join(', ')}`,
    );
    check(
      recorder.seen.some((s) => s.path === '/oauth/token' && s.grantType === 'authorization_code' && s.status === 200),
      'no successful authorization_code grant',
    );

    const tokens = provider.tokens();
    check(tokens?.access_token && tokens.refresh_token, 'the token response lacks an access or refresh token');
    const claims = claimsOf(tokens.access_token);
    check(claims.sub === alice.sub && claims.aud === ctx.mcpUrl, `the access token is for ${String(claims.sub)} at ${String(claims.aud)}`);
    ui.ok(
      `access token: EdDSA JWT, sub=${String(claims.sub)} groups=${(claims.groups as string[] | undefined)?.join(',') ?? ''} client_id=${String(claims.client_id).slice(0, 10)}… ` +
        `scope="${String(claims.scope)}" aud=${String(claims.aud)}, ${Math.round((Number(claims.exp) - Number(claims.iat)) / 60)} min`,
    );

    // 5: the MCP session, with the token in the Authorization header.
    const agent = await Agent.connectWithOAuth(ctx, provider, recorder.fetch);
    recorder.verbose = false;
    ui.ok(`connected: MCP session ${agent.sessionId?.slice(0, 12)}…`);
    const listing = await agent.call('files__list_directory', { path: '.' });
    check(listing.includes('README.md'), 'list_directory does not show the demo files');

    // 6: refresh. The SDK refreshes by itself when a call gets 401 after the 5-minute expiry; ask now.
    ui.say('Five minutes later the access token expires and the SDK refreshes it; asked for now:');
    recorder.verbose = true;
    const before = tokens.refresh_token;
    const outcome = await auth(provider, { serverUrl: ctx.mcpUrl, fetchFn: recorder.fetch });
    recorder.verbose = false;
    const after = provider.tokens();
    check(
      outcome === 'AUTHORIZED' && after?.refresh_token && after.access_token !== tokens.access_token,
      `the refresh did not produce new tokens (${outcome})`,
    );
    check(after.refresh_token !== before, 'the refresh token was not rotated');
    ui.ok('new access token and a new refresh token: the old refresh token is spent (reusing it would revoke the whole family)');
    const readme = await agent.call('files__read_text_file', { path: 'README.md' });
    check(readme.startsWith('# Demo folder'), 'read_text_file with the refreshed token did not return README.md');

    ctx.signedIn = { agent, provider, recorder };
    ui.say('alice typed her password into Gatehouse, never into the agent; the agent holds a 5-minute token for this gateway only.');
  },
};
