import { Hono, type Context } from 'hono';
import type { ConnectionRegistry } from '../connectors/http/auth/connections.js';
import type { UserOAuthProvider } from '../connectors/http/auth/user-oauth.js';
import { hostOriginCheck } from '../http/middleware/host-origin.js';
import type { Logger } from '../log/index.js';
import { ConsoleAccessError, type ConsolePageDeps, type ConsoleUser, signedInUser } from './console-auth.js';
import { CsrfTokens } from './csrf.js';
import { CONSOLE_HEADERS, html, page, type Raw } from './html.js';

export interface ConnectionsPageDeps extends ConsolePageDeps {
  registry: ConnectionRegistry;
  log: Logger;
}

const MAX_FORM_BYTES = 4 * 1024;
const CSRF_PURPOSE = 'connections';

/**
 * `/connections`: where a signed-in person connects their own accounts at downstream
 * providers (authorization code + PKCE, started here, finished at `/connections/callback`),
 * sees which provider, scopes and servers each connection serves, and disconnects. Server
 * rendered, no scripts. Forms need the browser session, a same-origin post and a CSRF token
 * bound to the session; a request with an `Authorization` header (an agent) is refused; the
 * callback is accepted only in the browser session that started it. No token is ever shown.
 */
export function connectionsPage(deps: ConnectionsPageDeps): Hono {
  const app = new Hono();
  const csrf = deps.csrf ?? new CsrfTokens();
  const origin = new URL(deps.publicUrl).origin;
  const { registry } = deps;
  app.use('*', hostOriginCheck({ allowedHosts: [new URL(deps.publicUrl).host], allowedOrigins: [origin] }));

  const respond = (c: Context, status: number, title: string, body: Raw, headers: Record<string, string> = CONSOLE_HEADERS) =>
    c.body(page(title, body), status as 200, headers);
  const refuse = (c: Context, status: number, title: string, message: string) =>
    respond(c, status, title, html`<h1>${title}</h1><p class="notice bad">${message}</p><p><a href="/connections">Your connections</a></p>`);

  const viewer = async (c: Context): Promise<ConsoleUser | Response> => {
    if (c.req.header('authorization') !== undefined) return refuse(c, 401, 'Not for agents', 'This page does not accept bearer tokens. Open it in a browser.');
    const user = await signedInUser(deps.auth, c);
    if (user instanceof ConsoleAccessError) return refuse(c, 403, 'Access refused', user.message);
    if (user) return user;
    // Back to the page itself (a sign-in returns to bare paths only, never a query).
    const link = deps.auth.loginUrl?.('/connections', { mfa: false });
    if (link && c.req.method === 'GET') return c.redirect(link, 303);
    return refuse(
      c,
      401,
      'Sign in',
      link ? 'Sign in to manage your connections.' : 'This gateway has no browser sign-in (the built-in authorization server is off).',
    );
  };

  /** A form post: same origin, signed in, with this session's CSRF token, not too large. */
  const formPoster = async (c: Context): Promise<{ user: ConsoleUser; form: Record<string, unknown> } | Response> => {
    if (c.req.header('authorization') !== undefined) return refuse(c, 401, 'Not for agents', 'This page does not accept bearer tokens.');
    if (c.req.header('origin') !== origin) return refuse(c, 403, 'Refused', 'This form can only be sent from the Gatehouse connections page itself.');
    const user = await viewer(c);
    if (user instanceof Response) return user;
    if (Number(c.req.header('content-length') ?? 0) > MAX_FORM_BYTES) return refuse(c, 413, 'Too large', 'The form is too large.');
    const form = await c.req.parseBody();
    if (!csrf.verify(user.sessionId, CSRF_PURPOSE, form.csrf)) return refuse(c, 403, 'Refused', 'The form has expired. Reload the page and try again.');
    return { user, form };
  };

  /** Where the connect form's redirect goes: the page's CSP must allow it (form-action applies to redirects). */
  const authorizationOrigins = async (): Promise<string[]> => {
    const origins = new Set<string>();
    for (const provider of registry.servers) {
      try {
        const endpoint = (await provider.endpoints.metadata()).authorization_endpoint;
        if (endpoint) origins.add(new URL(endpoint).origin);
      } catch {
        // The provider is unreachable now: connecting will fail with a message, not a CSP error.
      }
    }
    return [...origins];
  };

  app.get('/', async (c) => {
    const user = await viewer(c);
    if (user instanceof Response) return user;
    const mine = new Map((await registry.list(user.sub)).map((m) => [m.server, m]));
    const focus = c.req.query('server');
    const done = c.req.query('done');
    const doneServer = c.req.query('for') ?? '';
    const token = csrf.issue(user.sessionId, CSRF_PURPOSE);
    const row = (provider: UserOAuthProvider) => {
      const connection = mine.get(provider.server);
      const scopes = connection ? connection.scopes : provider.config.scopes;
      return html`<tr${provider.server === focus ? html` class="focus" aria-current="true"` : ''} id="server-${provider.server}">
<td><strong>${provider.providerName}</strong></td>
<td><code>${provider.server}</code></td>
<td>${scopes.length ? scopes.map((s) => html`<code>${s}</code> `) : html`<em>none</em>`}${connection ? '' : html` <small>(requested)</small>`}</td>
<td>${connection ? html`<span class="ok">Connected</span> <small>since ${new Date(connection.createdAt).toISOString()}</small>` : 'Not connected'}</td>
<td><form method="post" action="/connections/${connection ? 'disconnect' : 'connect'}"><input type="hidden" name="csrf" value="${token}"><input type="hidden" name="server" value="${provider.server}">${
        connection
          ? html`<button class="deny" type="submit">Disconnect</button>`
          : html`<button class="approve" type="submit">Connect${provider.server === focus ? ' now' : ''}</button>`
      }</form></td></tr>`;
    };
    const servers = registry.servers;
    const notice =
      done === 'connected'
        ? html`<p class="notice" role="status">Connected <code>${doneServer}</code>. Your agent's calls to it now act with your account; it never sees your token.</p>`
        : done === 'disconnected'
          ? html`<p class="notice" role="status">Disconnected <code>${doneServer}</code>. Its tokens were removed here and revoked at the provider where it allows that.</p>`
          : '';
    const focused =
      focus && servers.some((p) => p.server === focus) && !mine.has(focus)
        ? html`<p class="notice">A call of your agent needs <code>${focus}</code>: connect it below, then let the agent try again.</p>`
        : '';
    const headers = {
      ...CONSOLE_HEADERS,
      'content-security-policy': CONSOLE_HEADERS['content-security-policy']?.replace(
        "form-action 'self'",
        ["form-action 'self'", ...(await authorizationOrigins())].join(' '),
      ) as string,
    };
    return respond(
      c,
      200,
      'Your connections',
      html`<h1>Your connections</h1><p>Signed in as <strong>${user.sub}</strong>. Some servers act with your own account at another provider. Connect them here; Gatehouse keeps the tokens (encrypted) and your agent never sees them.</p>${notice}${focused}${
        servers.length === 0
          ? html`<p>No server here uses personal connections.</p>`
          : html`<table><thead><tr><th>Provider</th><th>Server</th><th>Scopes</th><th>Status</th><th></th></tr></thead><tbody>${servers.map(row)}</tbody></table>`
      }`,
      headers,
    );
  });

  app.post('/connect', async (c) => {
    const posted = await formPoster(c);
    if (posted instanceof Response) return posted;
    const provider = typeof posted.form.server === 'string' ? registry.get(posted.form.server) : undefined;
    if (!provider) return refuse(c, 404, 'Unknown server', 'There is no server with personal connections by that name.');
    let url: URL;
    try {
      url = await provider.startConnect(posted.user.sub, posted.user.sessionId);
    } catch (error) {
      deps.log.warn({ server: provider.server, err: (error as Error).message }, 'starting a connection failed');
      return refuse(c, 502, 'Provider unavailable', `${provider.providerName} cannot be reached right now. Try again later.`);
    }
    return c.redirect(url.href, 303);
  });

  app.get('/callback', async (c) => {
    const user = await viewer(c);
    if (user instanceof Response) return user;
    const state = c.req.query('state');
    if (!state || state.length > 200) return refuse(c, 400, 'Not connected', 'The provider sent no valid answer. Start again from this page.');
    const pending = await registry.store.takePending(state, (deps.now ?? Date.now)());
    // The state is single use; a request started by another person or browser session is not finished here.
    if (!pending || pending.user !== user.sub || pending.sessionId !== user.sessionId) {
      return refuse(
        c,
        400,
        'Not connected',
        'This connection request is unknown, expired, or was started in another browser session. Start again from this page.',
      );
    }
    const provider = registry.get(pending.server);
    if (!provider) return refuse(c, 404, 'Unknown server', 'The server this request was for is no longer configured.');
    const error = c.req.query('error');
    if (error) {
      const text =
        error === 'access_denied' ? 'You declined at the provider; nothing was connected.' : 'The provider did not grant access; nothing was connected.';
      return refuse(c, 400, 'Not connected', text);
    }
    try {
      await provider.finishConnect(new URL(c.req.url), pending);
    } catch (failure) {
      deps.log.warn({ server: provider.server, err: (failure as Error).message }, 'finishing a connection failed');
      return refuse(c, 502, 'Not connected', `${provider.providerName} did not complete the connection. Start again from this page.`);
    }
    return c.redirect(`/connections?done=connected&for=${encodeURIComponent(provider.server)}`, 303);
  });

  app.post('/disconnect', async (c) => {
    const posted = await formPoster(c);
    if (posted instanceof Response) return posted;
    const server = typeof posted.form.server === 'string' ? posted.form.server : '';
    const removed = await registry.disconnect(posted.user.sub, server, posted.user.sub, 'page');
    if (!removed) return refuse(c, 404, 'Not connected', 'You have no connection to that server.');
    return c.redirect(`/connections?done=disconnected&for=${encodeURIComponent(server)}`, 303);
  });

  return app;
}
