// An MCP client that signs in the way Claude Code, Cursor or VS Code do, per the MCP
// Authorization spec: the official SDK's OAuth support (`@modelcontextprotocol/sdk/client/auth.js`)
// with an OAuthClientProvider whose "open the browser" step is played over HTTP by demo/lib/browser.ts.
// Every request the client and the browser make is printed, one compact line each.
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Browser, forms, pageText, type Hop } from './browser.ts';
import { check, DemoError, type DemoContext } from './context.ts';
import { oneLine } from './ui.ts';

export interface Credentials {
  username: string;
  password: string;
}

/**
 * The client's OAuth state, in memory (a real client keeps it in its config or keychain).
 * While `credentials` is set, `redirectToAuthorization` plays the user: it opens the URL in
 * the scripted browser, signs in, presses Allow and keeps the code from the redirect. Without
 * it, the URL is only recorded: a real client would now open a browser and wait for a person.
 */
export class DemoAuthProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly authorizationUrls: URL[] = [];
  credentials: Credentials | undefined;
  #ctx: DemoContext;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = '';
  #state = '';
  #code: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #onTokens: (tokens: OAuthTokens) => void;

  constructor(ctx: DemoContext, redirectUrl: string, onTokens: (tokens: OAuthTokens) => void) {
    this.#ctx = ctx;
    this.redirectUrl = redirectUrl;
    this.#onTokens = onTokens;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Gatehouse demo agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
    this.#onTokens(tokens);
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    return this.#verifier;
  }
  /** Discovery results are kept, as real clients do, so a refresh goes straight to the token endpoint. */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }
  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = '';
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  /** The authorization code the last sign-in brought back to the redirect URI (once). */
  takeCode(): string {
    const code = this.#code;
    this.#code = undefined;
    check(code, 'the sign-in brought no authorization code back');
    return code;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const { ui } = this.#ctx;
    if (!this.credentials) {
      ui.say(
        `client: the user must sign in again; it would open a browser at ${url.pathname}?client_id=…&code_challenge_method=${url.searchParams.get('code_challenge_method')}&resource=…`,
      );
      return;
    }
    ui.say("the client opens the user's browser at the authorization endpoint:");
    const params = ['response_type', 'client_id', 'redirect_uri', 'scope', 'resource', 'code_challenge_method', 'state'];
    const shown = (p: string) => (p === 'client_id' || p === 'state' ? shorten(url.searchParams.get(p) ?? '(none)') : (url.searchParams.get(p) ?? '(none)'));
    ui.output(params.map((p) => `${p}=${shown(p)}`).join('  '));
    check(
      url.searchParams.get('code_challenge_method') === 'S256' && (url.searchParams.get('code_challenge') ?? '').length >= 43,
      'the authorization request carries no PKCE S256 challenge',
    );
    check(
      url.searchParams.get('resource') === this.#ctx.mcpUrl,
      `the authorization request names resource ${url.searchParams.get('resource')}, expected ${this.#ctx.mcpUrl}`,
    );
    const callback = await signIn(this.#ctx, url, this.credentials);
    check(callback.origin + callback.pathname === this.redirectUrl, `the sign-in ended at ${callback.href}, not at the client's redirect URI`);
    const error = callback.searchParams.get('error');
    if (error) throw new DemoError(`the authorization server answered ${error}: ${callback.searchParams.get('error_description') ?? ''}`);
    check(callback.searchParams.get('state') === this.#state, 'the redirect carries another state than the client sent (CSRF check)');
    check(
      callback.searchParams.get('iss') === this.#ctx.publicUrl,
      `the redirect's iss is ${callback.searchParams.get('iss')}, expected ${this.#ctx.publicUrl} (RFC 9207)`,
    );
    this.#code = callback.searchParams.get('code') ?? undefined;
    ui.ok(`back at the client's redirect URI with code=${shorten(this.#code ?? '')}, state (matches), iss=${callback.searchParams.get('iss')}`);
  }
}

/** Plays the person at the browser: sign-in form, then consent (Allow). Returns the final redirect. */
async function signIn(ctx: DemoContext, authorizationUrl: URL, credentials: Credentials): Promise<URL> {
  const { ui } = ctx;
  const browser = new Browser(ctx.publicUrl, (hop) => ui.line(`   ${ui.style('magenta', 'browser')} ${describeHop(ctx, hop)}`));
  let { response, url } = await browser.go(authorizationUrl);
  for (let step = 0; step < 6; step++) {
    if (response.status >= 300 && response.status < 400) return url;
    const html = await response.text();
    if (response.status !== 200) throw new DemoError(`sign-in stopped at ${url.pathname}: HTTP ${response.status}: ${oneLine(pageText(html), 300)}`);
    const [form] = forms(html);
    if (!form) throw new DemoError(`no form on ${url.pathname}: ${oneLine(pageText(html), 300)}`);
    if (/type="password"/.test(html)) {
      ui.say(`  sign-in page: "${oneLine(pageText(firstParagraph(html)), 140)}" — username and password fields`);
      ({ response, url } = await browser.submit(
        url,
        form,
        { username: credentials.username, password: credentials.password },
        { username: credentials.username, password: '••••••••' },
      ));
    } else if (/name="decision"/.test(html)) {
      const returnsTo = /<dt>Returns to<\/dt><dd>([\s\S]*?)<\/dd>/.exec(html)?.[1] ?? '';
      const abilities = [...html.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => pageText(m[1] as string));
      ui.say(
        `  consent page: "${oneLine(pageText(firstParagraph(html)), 140)}" returns to ${pageText(returnsTo)}; it will be able to: ${abilities.join('; ')}  [Allow] [Deny]`,
      );
      ({ response, url } = await browser.submit(url, form, { decision: 'allow' }, { decision: 'allow' }));
    } else {
      throw new DemoError(`unexpected page at ${url.pathname} (MFA is not part of the demo): ${oneLine(pageText(html), 300)}`);
    }
  }
  throw new DemoError('the sign-in did not finish');
}

export function describeHop(ctx: DemoContext, hop: Hop): string {
  const posted = hop.posted
    ? ` (${Object.entries(hop.posted)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')})`
    : '';
  const target = hop.location
    ? ` → ${hop.location.origin === ctx.publicUrl ? shortPath(hop.location) : `${hop.location.origin}${shortPath(hop.location)}`}`
    : '';
  return `${hop.method} ${shortPath(hop.url)}${posted}  ${ctx.ui.style('dim', `← ${hop.status}${target}`)}`;
}

/** A path with its query cut and long ids (interactions, resumed authorizations) shortened. */
function shortPath(url: URL): string {
  const path = url.pathname.replace(/\/([\w-]{6})[\w-]{14,}/g, '/$1…');
  return url.search ? `${path}?…` : path;
}

function firstParagraph(html: string): string {
  return /<p\b[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
}

function shorten(value: string, keep = 10): string {
  return value.length > keep * 2 + 1 ? `${value.slice(0, keep)}…` : value;
}

/**
 * A fetch for the SDK that prints each request and its answer while `verbose` is on: the
 * request sequence of the MCP Authorization spec, as the client sees it.
 */
export class RecordingFetch {
  verbose = true;
  readonly seen: { method: string; path: string; status: number; grantType?: string }[] = [];
  #ctx: DemoContext;

  constructor(ctx: DemoContext) {
    this.#ctx = ctx;
  }

  readonly fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : undefined;
    const headers = new Headers(init?.headers);
    const response = await fetch(input, init);
    const form = body && !body.startsWith('{') ? new URLSearchParams(body) : undefined;
    const grantType = form?.get('grant_type') ?? undefined;
    this.seen.push({ method, path: url.pathname, status: response.status, ...(grantType ? { grantType } : {}) });
    if (this.verbose) {
      const { ui } = this.#ctx;
      const what = describeRequest(url, body, form, headers);
      const answer = await describeResponse(url, response, grantType);
      ui.line(
        `   ${ui.style('blue', 'client')}  ${method} ${url.pathname}${what ? ` ${what}` : ''}  ${ui.style('dim', `← ${response.status}${answer ? ` ${answer}` : ''}`)}`,
      );
    }
    return response;
  };
}

function describeRequest(url: URL, body: string | undefined, form: URLSearchParams | undefined, headers: Headers): string {
  if (url.pathname.endsWith('/mcp') && body) {
    let method = '';
    try {
      method = (JSON.parse(body) as { method?: string }).method ?? 'response';
    } catch {
      method = 'message';
    }
    return `(${method}${headers.has('authorization') ? ', Bearer token' : ', no token'})`;
  }
  if (form?.get('grant_type')) {
    const extra =
      form.get('grant_type') === 'authorization_code'
        ? `, code_verifier, resource=${form.get('resource') ?? '(none)'}`
        : form.get('grant_type') === 'refresh_token'
          ? ', refresh_token'
          : '';
    return `(grant_type=${form.get('grant_type')}${extra})`;
  }
  if (url.pathname.endsWith('/register') && body) {
    const meta = JSON.parse(body) as { client_name?: string; redirect_uris?: string[] };
    return `(client_name "${meta.client_name}", redirect_uris ${JSON.stringify(meta.redirect_uris)})`;
  }
  return '';
}

async function describeResponse(url: URL, response: Response, grantType: string | undefined): Promise<string> {
  if (response.status === 401 || response.status === 403) return `WWW-Authenticate: ${response.headers.get('www-authenticate') ?? '(none)'}`;
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) return '';
  const json = (await response
    .clone()
    .json()
    .catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!json) return '';
  if (url.pathname.startsWith('/.well-known/oauth-protected-resource'))
    return `authorization_servers ${JSON.stringify(json.authorization_servers)}, scopes_supported ${JSON.stringify(json.scopes_supported)}`;
  if (url.pathname.startsWith('/.well-known/')) {
    return `code_challenge_methods_supported ${JSON.stringify(json.code_challenge_methods_supported)}, registration_endpoint, client_id_metadata_document_supported: ${String(json.client_id_metadata_document_supported)}`;
  }
  if (url.pathname.endsWith('/register')) return `client_id ${shorten(String(json.client_id))}`;
  if (url.pathname.endsWith('/token')) {
    if (json.error) return `${String(json.error)}${json.error_description ? `: ${String(json.error_description)}` : ''}`;
    const parts = [
      `access_token (JWT, ${String(json.expires_in)} s)`,
      json.refresh_token ? `refresh_token ${shorten(String(json.refresh_token), 6)}` : 'no refresh_token',
      `scope "${String(json.scope)}"`,
    ];
    return `${parts.join(', ')}${grantType === 'refresh_token' ? ' (rotated)' : ''}`;
  }
  if (url.pathname.endsWith('/mcp')) return typeof json.code === 'string' ? String(json.code) : '';
  return '';
}
