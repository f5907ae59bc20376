import { freePort } from '../../src/util/free-port.ts';
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export { freePort };

export interface IdpAccount {
  preferred_username: string;
  email?: string;
  groups: string[];
  amr: string[];
}

/**
 * A second oidc-provider playing the enterprise IdP on loopback. Its sign-in is headless: the
 * account in `current` is signed in and consents at once, as if the person had done so. Every
 * token it issues is recorded, so tests can prove none of them leaves Gatehouse.
 */
export class FakeIdp {
  current = 'carol';
  readonly issued: string[] = [];
  /** The `prompt` parameter of every authorization request the IdP received. */
  readonly prompts: (string | undefined)[] = [];
  private constructor(
    readonly issuer: string,
    private readonly server: Server,
  ) {}

  static async start(redirectUri: string, clientSecret: string, accounts: Record<string, IdpAccount>): Promise<FakeIdp> {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    let idp: FakeIdp | undefined;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const provider = new Provider(issuer, {
      jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'idp-key' }] as never },
      clients: [
        {
          client_id: 'gatehouse',
          client_secret: clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      claims: { openid: ['sub', 'amr', 'auth_time'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
      scopes: ['openid', 'profile', 'email', 'groups'],
      conformIdTokenClaims: false,
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub: `idp-${sub}`, ...(accounts[sub] as IdpAccount) }) }),
      features: { devInteractions: { enabled: false } },
      pkce: { required: () => true },
      interactions: { url: (_ctx, interaction) => `/i/${interaction.uid}` },
      async loadExistingGrant(ctx) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client?.clientId, accountId: ctx.oidc.session?.accountId });
        grant.addOIDCScope('openid profile email groups');
        await grant.save();
        return grant;
      },
    });
    provider.use(async (ctx: KoaContextWithOIDC, next) => {
      if (ctx.path === '/auth') idp?.prompts.push(typeof ctx.query.prompt === 'string' ? ctx.query.prompt : undefined);
      if (ctx.path.startsWith('/i/')) {
        const account = idp?.current as string;
        await provider.interactionFinished(
          ctx.req,
          ctx.res,
          { login: { accountId: account, amr: accounts[account]?.amr ?? ['pwd'] } },
          { mergeWithLastSubmission: false },
        );
        ctx.respond = false;
        return;
      }
      await next();
      if (ctx.path === '/token' && ctx.status === 200) {
        const body = ctx.body as { access_token?: string; id_token?: string };
        for (const value of [body.access_token, body.id_token]) if (value) idp?.issued.push(value);
      }
    });
    const server = provider.listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    idp = new FakeIdp(issuer, server);
    return idp;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
