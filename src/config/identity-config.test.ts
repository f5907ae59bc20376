import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { parseConfigText, validateConfig } from './load.js';

const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => validateConfig(parseConfigText(yaml), 'test.yaml', '/srv/gh', { env });

function issues(yaml: string, env: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    load(yaml, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('identity and oauth configuration', () => {
  it('fills secure defaults', () => {
    const config = load('{}');
    expect(config.identity).toMatchObject({
      localAccounts: true,
      sessionMaxAge: 12 * 3600_000,
      lockout: { threshold: 5, baseDelay: 30_000, maxDelay: 900_000 },
      conditionalAccess: {},
    });
    expect(config.identity.upstream).toBeUndefined();
    expect(config.oauth).toMatchObject({
      enabled: true,
      memoryOnly: false,
      dynamicRegistration: true,
      clientMetadataDocuments: { enabled: true, maxBytes: 5 * 1024, dangerouslyAllowPrivateAddresses: false },
      dpop: { required: false },
      tokenExchange: { enabled: true },
      clients: [],
    });
  });

  it('accepts the documented example', () => {
    const config = load(
      `
identity:
  upstream:
    name: Acme SSO
    issuer: https://sso.acme.example/realms/acme
    clientId: gatehouse
    clientSecret: \${SSO_SECRET}
    groupMap: { engineering: eng, platform-admins: [admins, eng] }
  conditionalAccess:
    admins: { mfa: true, networks: [10.0.0.0/8, "2001:db8::/32"], maxSessionAge: 1h }
oauth:
  clients:
    - clientId: team-dashboard
      redirectUris: [https://dashboard.acme.example/callback]
      grantTypes: [authorization_code, urn:ietf:params:oauth:grant-type:token-exchange]
`,
      { SSO_SECRET: 's' },
    );
    expect(config.identity.upstream).toMatchObject({
      usernameClaim: 'preferred_username',
      groupClaim: 'groups',
      keepUnmappedGroups: false,
      scopes: ['openid', 'profile', 'email'],
    });
    expect(config.identity.conditionalAccess.admins).toEqual({ mfa: true, networks: ['10.0.0.0/8', '2001:db8::/32'], maxSessionAge: 3600_000 });
    expect(config.oauth.clients[0]).toMatchObject({ dpopBoundAccessTokens: false });
  });

  it('refuses bad networks, duplicate client ids, unknown keys and unset secrets, naming the path', () => {
    expect(issues('identity: { conditionalAccess: { ops: { networks: [10.0.0.0/33] } } }')).toEqual([
      expect.objectContaining({ path: 'identity.conditionalAccess.ops.networks[0]' }),
    ]);
    expect(issues('oauth: { clients: [{ clientId: a, redirectUris: [x] }, { clientId: a, redirectUris: [y] }] }')).toEqual([
      expect.objectContaining({ path: 'oauth.clients[1].clientId', message: 'duplicate client id "a"' }),
    ]);
    expect(issues('oauth: { memoryOnyl: true }')[0]?.path).toBe('oauth');
    expect(issues('identity: { upstream: { issuer: "https://idp.example", clientId: g, clientSecret: "${NOPE}" } }')).toEqual([
      expect.objectContaining({ path: 'identity.upstream.clientSecret', message: expect.stringContaining('${NOPE}') }),
    ]);
  });
});
