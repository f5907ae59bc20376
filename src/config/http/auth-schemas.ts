import { z } from 'zod';
import { SECRET_NAME } from '../secret-name.js';

/**
 * The credential types of `servers.<name>.http.auth`. Every secret is a `vault:NAME`
 * reference: a literal key in the configuration file would sit in plain text next to it.
 */
const VAULT_REF = /^vault:([A-Za-z0-9][A-Za-z0-9_.-]{0,127})$/;

export const VaultRefSchema = z
  .string()
  .regex(VAULT_REF, 'must be a vault reference, vault:NAME (store the value with: gatehouse vault put NAME)')
  .transform((value) => value.slice('vault:'.length))
  .refine((name) => SECRET_NAME.test(name));

/** RFC 9110 field-name (token) characters only: no CR/LF, no spaces, no colon. */
const HeaderNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, 'must be an HTTP header name')
  .refine(
    (name) => !['host', 'content-length', 'transfer-encoding', 'connection', 'cookie'].includes(name.toLowerCase()),
    'this header cannot carry a credential',
  );
const QueryNameSchema = z.string().regex(/^[A-Za-z0-9_.~-]{1,64}$/, 'must be a plain query parameter name');
/** A visible prefix before the key (e.g. `Bearer `, `token `): printable ASCII only. */
const PrefixSchema = z.string().regex(/^[\x20-\x7e]{0,32}$/, 'must be printable ASCII (at most 32 characters)');
const ScopeSchema = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/, 'must be an RFC 6749 scope token');
const UrlSchema = z.url({ protocol: /^https?$/ });

export const ApiKeyAuthSchema = z
  .strictObject({
    type: z.literal('apiKey'),
    /** Where the key goes (default: a header). */
    in: z.enum(['header', 'query']).default('header'),
    /** Header or query parameter name (e.g. `x-api-key`, `authorization`, `api_key`). */
    name: z.string().min(1),
    key: VaultRefSchema,
    /** Text before the key in a header (e.g. `Bearer `). */
    prefix: PrefixSchema.default(''),
  })
  .superRefine((value, ctx) => {
    const check = (value.in === 'header' ? HeaderNameSchema : QueryNameSchema).safeParse(value.name);
    if (!check.success) ctx.addIssue({ code: 'custom', path: ['name'], message: check.error.issues[0]?.message ?? 'invalid name' });
    if (value.in === 'query' && value.prefix !== '') ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'a prefix applies to headers only' });
  });

export const BasicAuthSchema = z.strictObject({
  type: z.literal('basic'),
  /** The user name: a literal, or `vault:NAME`. */
  username: z.string().min(1).max(256),
  password: VaultRefSchema,
});

const ClientAuthMethodSchema = z.enum(['client_secret_basic', 'client_secret_post']);

/**
 * Where the OAuth endpoints are: `issuer` (RFC 8414 metadata is fetched once) or the
 * endpoints given by hand.
 */
const EndpointsShape = {
  issuer: UrlSchema.optional(),
  tokenUrl: UrlSchema.optional(),
  /** Token endpoints over plain http (a loopback test provider). Logged as a warning at start. */
  dangerouslyAllowHttp: z.boolean().default(false),
};

/** A confidential client of the token endpoint: its id, its secret (from the vault) and how it authenticates. */
const ConfidentialClientShape = {
  clientId: z.string().min(1).max(256),
  clientSecret: VaultRefSchema,
  authMethod: ClientAuthMethodSchema.default('client_secret_basic'),
};

const needsEndpoint = (value: { issuer?: string | undefined; tokenUrl?: string | undefined }) => value.issuer !== undefined || value.tokenUrl !== undefined;

export const ClientCredentialsAuthSchema = z
  .strictObject({
    type: z.literal('clientCredentials'),
    ...EndpointsShape,
    ...ConfidentialClientShape,
    scopes: z.array(ScopeSchema).max(64).default([]),
    /** RFC 8707 resource indicator sent with the token request. */
    resource: UrlSchema.optional(),
  })
  .refine(needsEndpoint, { message: 'give issuer or tokenUrl' });

export const UserOAuthAuthSchema = z
  .strictObject({
    type: z.literal('userOAuth'),
    ...EndpointsShape,
    authorizationUrl: UrlSchema.optional(),
    /** RFC 7009 endpoint; taken from the issuer's metadata when not given. */
    revocationUrl: UrlSchema.optional(),
    /** The provider as the `/connections` page names it (default: the issuer or authorization host). */
    displayName: z.string().min(1).max(100).optional(),
    clientId: z.string().min(1).max(256),
    /** Absent for a public client (PKCE only). */
    clientSecret: VaultRefSchema.optional(),
    authMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
    scopes: z.array(ScopeSchema).max(64).default([]),
    /** RFC 8707 resource indicator for the authorization and token requests. */
    resource: UrlSchema.optional(),
  })
  .refine((v) => v.issuer !== undefined || (v.tokenUrl !== undefined && v.authorizationUrl !== undefined), {
    message: 'give issuer, or both authorizationUrl and tokenUrl',
  });

export const TokenExchangeAuthSchema = z
  .strictObject({
    type: z.literal('tokenExchange'),
    ...EndpointsShape,
    ...ConfidentialClientShape,
    /** RFC 8693 `audience` of the issued token (the downstream API). */
    audience: z.string().min(1).max(512),
    scopes: z.array(ScopeSchema).max(64).default([]),
    resource: UrlSchema.optional(),
    /** Per tool: a narrower audience or scope set (the token is down-scoped to the operation). */
    tools: z
      .record(z.string().min(1), z.strictObject({ audience: z.string().min(1).max(512).optional(), scopes: z.array(ScopeSchema).max(64).optional() }))
      .default({}),
  })
  .refine(needsEndpoint, { message: 'give issuer or tokenUrl' });

export type ApiKeyAuth = z.infer<typeof ApiKeyAuthSchema>;
export type BasicAuth = z.infer<typeof BasicAuthSchema>;
export type ClientCredentialsAuth = z.infer<typeof ClientCredentialsAuthSchema>;
export type UserOAuthAuth = z.infer<typeof UserOAuthAuthSchema>;
export type TokenExchangeAuth = z.infer<typeof TokenExchangeAuthSchema>;
