// "Items Cloud": a small downstream SaaS for the demo, in this process. An OAuth 2.0
// authorization server (oidc-provider: authorization code with PKCE required, rotating
// refresh tokens, RFC 7009 revocation) with its own sign-in and consent pages, and an API
// (`GET /api/items`) that answers with the items of whoever the bearer token belongs to.
// Gatehouse is its registered client; users connect their accounts on Gatehouse's
// /connections page. Every token it issues is recorded, so the demo can prove none of them
// reached the agent, the audit log, the gateway log or the data dir.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';

export interface ItemsCloudAccount {
  password: string;
  items: string[];
}

/** The provider's accounts (demo passwords, loopback only): alice has items; bob has an account but never connects it. */
export const ITEMS_CLOUD_ACCOUNTS: Readonly<Record<string, ItemsCloudAccount>> = {
  alice: { password: 'alice items password', items: ['Quarterly report draft', 'Flight to Lisbon, 14 March', 'Team offsite budget'] },
  bob: { password: 'bob items password', items: ['Bike repair receipt'] },
};

export const ITEMS_CLOUD_CLIENT_ID = 'gatehouse';
export const ITEMS_CLOUD_SCOPES = ['openid', 'items:read'] as const;

/**
 * oidc-provider's storage, in memory: the demo's provider lives as long as the demo. (Written
 * out rather than using the built-in one, which warns on every start that it is for quick starts.)
 */
class MemoryStore implements Adapter {
  static readonly #data = new Map<string, AdapterPayload>();
  static readonly #grants = new Map<string, Set<string>>();
  readonly #model: string;

  constructor(model: string) {
    this.#model = model;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, _expiresIn: number): Promise<void> {
    MemoryStore.#data.set(this.#key(id), payload);
    if (payload.grantId) {
      const keys = MemoryStore.#grants.get(payload.grantId) ?? new Set<string>();
      keys.add(this.#key(id));
      MemoryStore.#grants.set(payload.grantId, keys);
    }
    if (payload.uid) MemoryStore.#data.set(`uid:${payload.uid}`, { id } as AdapterPayload);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return MemoryStore.#data.get(this.#key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const ref = MemoryStore.#data.get(`uid:${uid}`) as { id?: string } | undefined;
    return ref?.id ? this.find(ref.id) : undefined;
  }

  async findByUserCode(_userCode: string): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = MemoryStore.#data.get(this.#key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    MemoryStore.#data.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of MemoryStore.#grants.get(grantId) ?? []) MemoryStore.#data.delete(key);
    MemoryStore.#grants.delete(grantId);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>Items Cloud</h1>${body}</main></body></html>`;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) break;
  }
  return new URLSearchParams(body);
}

export class ItemsCloud {
  readonly issuer: string;
  /** Every access, refresh and ID token this provider issued. */
  readonly issued: string[] = [];
  /** Token requests by grant type, and RFC 7009 revocations. */
  readonly grants = new Map<string, number>();
  revocations = 0;
  /** Requests that reached the API, with or without a valid token. */
  apiRequests = 0;
  readonly #provider: Provider;
  readonly #server: Server;

  private constructor(issuer: string, provider: Provider, server: Server) {
    this.issuer = issuer;
    this.#provider = provider;
    this.#server = server;
  }

  /** The API's base URL (the HTTP connector's `baseUrl`). */
  get apiUrl(): string {
    return `${this.issuer}/api`;
  }

  /**
   * Starts the provider on a free loopback port. `redirectUri` is Gatehouse's
   * `<publicUrl>/connections/callback`; `clientSecret` is the one put into Gatehouse's vault.
   */
  static async start(options: { redirectUri: string; clientSecret: string }): Promise<ItemsCloud> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const provider = new Provider(issuer, {
      adapter: MemoryStore,
      jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'items-cloud', use: 'sig', alg: 'RS256' }] as never },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      clients: [
        {
          client_id: ITEMS_CLOUD_CLIENT_ID,
          client_secret: options.clientSecret,
          redirect_uris: [options.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: ITEMS_CLOUD_SCOPES.join(' '),
        },
      ],
      scopes: [...ITEMS_CLOUD_SCOPES],
      claims: { openid: ['sub'] },
      features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
      pkce: { required: () => true },
      rotateRefreshToken: true,
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 86_400, Grant: 86_400, Interaction: 600, Session: 3600 },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx, sub) => (ITEMS_CLOUD_ACCOUNTS[sub] ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
    });
    const cloud = new ItemsCloud(issuer, provider, server);
    provider.use((ctx, next) => cloud.#route(ctx as KoaContextWithOIDC, next));
    server.on('request', provider.callback());
    // The demo process may end while the provider still listens (`--once`).
    server.unref();
    return cloud;
  }

  async #route(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const interaction = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(ctx.path);
    if (interaction) return this.#interaction(ctx, interaction[2]);
    if (ctx.path === '/api/items' && ctx.method === 'GET') return this.#items(ctx);
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const grant = String(ctx.oidc?.params?.grant_type ?? 'unknown');
      this.grants.set(grant, (this.grants.get(grant) ?? 0) + 1);
      const body = ctx.body as { access_token?: string; refresh_token?: string; id_token?: string } | undefined;
      for (const token of [body?.access_token, body?.refresh_token, body?.id_token]) if (token) this.issued.push(token);
    }
    if (ctx.path === '/token/revocation' && ctx.status === 200) this.revocations++;
  }

  /** The sign-in and consent pages: plain forms, as a real provider's would be. */
  async #interaction(ctx: KoaContextWithOIDC, action: string | undefined): Promise<void> {
    const details = await this.#provider.interactionDetails(ctx.req, ctx.res);
    const uid = details.uid;
    const html = (body: string, status = 200) => {
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = page('Items Cloud', body);
    };
    if (ctx.method === 'GET' && details.prompt.name === 'login') {
      return html(
        `<p>Sign in to Items Cloud to continue.</p><form method="post" action="/interaction/${uid}/login"><label>Username <input name="username"></label><label>Password <input type="password" name="password"></label><button>Sign in</button></form>`,
      );
    }
    if (ctx.method === 'GET' && details.prompt.name === 'consent') {
      const scopes = String(details.params.scope ?? '').split(' ');
      return html(
        `<p>Gatehouse asks to access your Items Cloud account.</p><ul>${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul><form method="post" action="/interaction/${uid}/confirm"><button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button></form>`,
      );
    }
    if (ctx.method === 'POST' && action === 'login') {
      const form = await formOf(ctx.req);
      const account = ITEMS_CLOUD_ACCOUNTS[form.get('username') ?? ''];
      if (!account || account.password !== form.get('password')) return html('<p>Wrong username or password.</p>', 401);
      await this.#provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: form.get('username') as string } }, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    if (ctx.method === 'POST' && action === 'confirm') {
      const form = await formOf(ctx.req);
      if (form.get('decision') !== 'allow') {
        await this.#provider.interactionFinished(
          ctx.req,
          ctx.res,
          { error: 'access_denied', error_description: 'the user declined' },
          { mergeWithLastSubmission: false },
        );
        ctx.respond = false;
        return;
      }
      const accountId = details.session?.accountId as string;
      const grant = details.grantId
        ? ((await this.#provider.Grant.find(details.grantId)) as InstanceType<Provider['Grant']>)
        : new this.#provider.Grant({ accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await this.#provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      ctx.respond = false;
      return;
    }
    html('<p>Not found.</p>', 404);
  }

  /** The API: the items of the account the bearer token was issued for; 401 without a live token. */
  async #items(ctx: KoaContextWithOIDC): Promise<void> {
    this.apiRequests++;
    const token = /^Bearer ([\w.~+/-]+=*)$/.exec(ctx.get('authorization'))?.[1];
    const found = token ? await this.#provider.AccessToken.find(token) : undefined;
    if (
      !found ||
      found.isExpired ||
      !String(found.scope ?? '')
        .split(' ')
        .includes('items:read')
    ) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    const owner = found.accountId as string;
    ctx.body = { owner, items: (ITEMS_CLOUD_ACCOUNTS[owner]?.items ?? []).map((title, i) => ({ id: `item-${i + 1}`, title })) };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }
}
