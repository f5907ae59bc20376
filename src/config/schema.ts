import { z } from 'zod';
import { type DurationUnit, UNIT_MS } from '../util/duration.js';
import { isCidr } from '../egress/cidr-set.js';
import { ClassificationSchema } from '../sanitize/classification.js';
import { FieldClassificationSchema, OutputLimitsSchema, SANITIZE_DEFAULTS, SanitizeConfigSchema } from '../sanitize/config-schema.js';
import { HostPatternSchema, ServerEgressSchema } from './egress-schema.js';
import { HttpApiServerFields } from './http-api-schema.js';
import { ConnectorServerFields } from './connector-schema.js';
import { MetricsConfigSchema, TracingConfigSchema } from './observability-schema.js';

import { PostgresTlsFields } from './postgres-tls-schema.js';
import { StorageSchema } from './storage-schema.js';
import { RateLimitRedisSchema } from './ratelimit-redis-schema.js';
import { ByteSizeSchema, DurationSchema } from './units.js';

export { ByteSizeSchema, DurationSchema };

/**
 * The one documented defaults object (docs/configuration.md mirrors it). Every default a
 * user can observe lives here, so a reader never has to hunt through modules for one.
 */
export const DEFAULTS = {
  listen: { host: '127.0.0.1', port: 8787 },
  dataDir: './.gatehouse',
  naming: { mode: 'auto', separator: '__' },
  limits: {
    maxRequestBody: '1mb',
    maxUpstreamResponse: '16mb',
    upstreamTimeout: '60s',
    maxSessionsPerUser: 64,
    sessionIdleTimeout: '30m',
    maxBatch: 32,
    inputRequiredTimeout: '5m',
  },
  tokens: { defaultTtl: '5m', maxTtl: '15m' },
  audit: { checkpointEvery: 1000, checkpointInterval: '5m', sync: 'fsync' as 'fsync' | 'os' },
  upstream: { restartBackoffInitial: '250ms', restartBackoffMax: '30s', isolation: 'shared' },
  /** Stdio upstreams run under bubblewrap wherever it works; no network, nothing writable but a private /tmp. */
  sandbox: { mode: 'auto', network: 'none', writable: [] as string[], readable: [] as string[] },
  log: { level: 'info' },
  vault: { keyFile: '$XDG_CONFIG_HOME/gatehouse/master.key (else ~/.config/gatehouse/master.key)' },
  postgres: {
    port: 5432,
    /** Leases (JIT database roles): 5 minutes by default, 60 at most (a credential that outlives its task is what leases remove). */
    leaseTtl: '5m',
    leaseMaxTtl: '60m',
    sweepInterval: '60s',
    poolSize: 2,
    statementTimeout: '5s',
    maxRows: 500,
    maxBytes: '256kb',
  },
  identity: {
    localAccounts: true,
    sessionMaxAge: '12h',
    mfaIssuer: 'Gatehouse',
    lockout: { threshold: 5, baseDelay: '30s', maxDelay: '15m' },
    upstream: {
      name: 'single sign-on',
      scopes: ['openid', 'profile', 'email'],
      usernameClaim: 'preferred_username',
      groupClaim: 'groups',
      mfaAmrValues: ['mfa', 'otp', 'hwk', 'swk', 'sms', 'fido', 'pop'],
    },
  },
  oauth: {
    enabled: true,
    memoryOnly: false,
    refreshTokenTtl: '14d',
    dynamicRegistration: true,
    clientMetadataDocuments: { enabled: true, maxBytes: '5kb' },
    dpop: { required: false },
    tokenExchange: { enabled: true, clients: [] as string[] },
  },
  policySettings: { timeZone: 'UTC', destructiveTools: 'four-eyes' },
  approvals: {
    ttl: '15m',
    wait: '30s',
    progressInterval: '5s',
    consoleMfaMaxAge: '15m',
    breakGlassMinReason: 10,
    webhookTimeout: '5s',
    dangerouslyAllowFormConfirm: false,
  },
  /** The output sanitizer's defaults live beside its schema (src/sanitize/config-schema.ts). */
  sanitize: SANITIZE_DEFAULTS,
  rateLimits: {
    enabled: true,
    user: { burst: '50/s', sustained: '1200/m' },
    tool: { burst: '20/s', sustained: '600/m' },
    client: { burst: '200/s', sustained: '6000/m' },
  },
} as const;

/** `20/s`, `600/m`, `5/30s`, `100/h`, `1000/d`: that many calls per window. */
export const RateSchema = z.string().transform((value, ctx) => {
  const match = /^\s*(\d+)\s*\/\s*(?:(\d+)\s*)?(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a rate; write calls/window, e.g. 20/s, 600/m, 5/30s` });
    return z.NEVER;
  }
  const unit = UNIT_MS[match[3] as DurationUnit];
  const windowMs = (match[2] ? Number(match[2]) : 1) * unit;
  const points = Number(match[1]);
  if (points < 1 || windowMs < 1000) {
    ctx.addIssue({ code: 'custom', message: `"${value}": at least 1 call per window of at least 1s` });
    return z.NEVER;
  }
  return { points, windowMs };
});

const LimitSchema = z.strictObject({
  burst: RateSchema.optional().describe('short-window limit, e.g. 20/s'),
  sustained: RateSchema.optional().describe('long-window limit, e.g. 600/m'),
  daily: z.number().int().min(1).optional().describe('calls per rolling 24 hours'),
});

/**
 * Server names and name prefixes: letters, digits, "-" and "_", starting with a letter or digit,
 * not ending with "_" and without "__". That makes `server__tool` (and `prefix__tool`)
 * injective: see `qualify` in src/mcp/naming.ts for the proof.
 */
const ServerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'server names use letters, digits, "-" and "_" and start with a letter or digit')
  .refine((name) => !name.includes('__'), 'server names must not contain "__" (it separates server and tool names)')
  .refine(
    (name) => !name.endsWith('_'),
    'server names must not end with "_" (server "ops_" with tool "restart" and server "ops" with tool "_restart" would both be "ops___restart")',
  );

const IsolationSchema = z
  .enum(['shared', 'per-user', 'per-session'])
  .describe('shared: one upstream instance for everyone; per-user: one per signed-in user; per-session: one per MCP session');

/** Values may contain `${VAR}` (the gateway's environment, resolved at use and never logged). */
const StringMapSchema = z.record(z.string(), z.string());

const ToolOverrideSchema = z.strictObject({
  annotations: z
    .strictObject({
      destructiveHint: z.boolean().optional(),
      readOnlyHint: z.boolean().optional(),
      idempotentHint: z.boolean().optional(),
      openWorldHint: z.boolean().optional(),
    })
    .optional(),
  /** Classification of what the tool returns (raises the server's, never lowers it). */
  classification: ClassificationSchema.optional(),
  /** Fields of its results (structured members, database columns) → classification; above the caller's clearance they are withheld. */
  fields: FieldClassificationSchema.optional(),
  /** Size and volume limits on its results (cut results say so). */
  limits: OutputLimitsSchema.optional(),
  /** Rows are replaced by counts and per-column summaries (sensitive tables). */
  aggregateOnly: z.boolean().optional(),
  /**
   * The tool's arguments that are file system paths (top-level names; a list of strings counts
   * too). They are normalised before validation and policy, and refused when they climb above
   * their root. Replaces the built-in names (path, paths, file, source, destination, …).
   */
  pathArguments: z.array(z.string().min(1)).optional(),
});

/**
 * Tool pinning against rug pulls (see src/pinning). `mode`: when Gatehouse pins a tool without
 * asking anyone. `first-start` (default) pins the server's first catalog; a tool that changes
 * or appears later is quarantined until approved. `trust-on-first-use` pins every tool the
 * first time it appears; only changes are quarantined. `manual` pins nothing by itself.
 * `poisonedDescriptions`: what a description that reads like instructions to the model does to
 * its tool — `neutralize` (default: the agent sees a neutral description), `quarantine` (held
 * until approved), `flag` (audited only). Every hit is audited whatever the action.
 */
const PinningSchema = z
  .strictObject({
    mode: z.enum(['first-start', 'trust-on-first-use', 'manual']).default('first-start'),
    poisonedDescriptions: z.enum(['quarantine', 'neutralize', 'flag']).default('neutralize'),
  })
  .default({ mode: 'first-start', poisonedDescriptions: 'neutralize' });

const CommonServerFields = {
  /** Exposed name prefix; defaults to the server's own name. */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'prefixes use letters, digits, "-" and "_" and start with a letter or digit')
    .refine((p) => !p.includes('__'), 'prefixes must not contain "__" (it separates prefix and name)')
    .refine((p) => !p.endsWith('_'), 'prefixes must not end with "_" (the exposed name would be ambiguous)')
    .optional(),
  isolation: IsolationSchema.default(DEFAULTS.upstream.isolation),
  timeout: DurationSchema.optional(),
  /**
   * Roots come from the agent's client, which Gatehouse treats as untrusted; some servers
   * (e.g. server-filesystem) widen their allowed directories to whatever roots a client names.
   * Off unless the operator opts in.
   */
  forwardRoots: z.boolean().default(false),
  tools: z.record(z.string(), ToolOverrideSchema).default({}),
  /** Classification of everything the server returns (default `sanitize.defaultClassification`). */
  classification: ClassificationSchema.optional(),
  /** Fields (structured members; for PostgreSQL, columns) → classification, for every tool of the server. */
  fields: FieldClassificationSchema.optional(),
  /** Resource URI prefix → classification (the longest matching prefix applies). */
  resources: z.record(z.string().min(1), z.strictObject({ classification: ClassificationSchema.optional() })).optional(),
  /** Limits on every tool's results unless the tool sets its own. */
  limits: OutputLimitsSchema.optional(),
  /**
   * `untrusted` for servers that relay text anyone can write (web pages, mail, tickets): their
   * results carry provenance markers and instruction-like text in them is audited.
   */
  trust: z.enum(['trusted', 'untrusted']).default('trusted'),
  pinning: PinningSchema,
};

/** How a stdio upstream is confined (src/sandbox). Paths are absolute or relative to the config file's folder. */
export const SandboxSchema = z.strictObject({
  mode: z
    .enum(['auto', 'required', 'dangerously-off'])
    .default(DEFAULTS.sandbox.mode)
    .describe(
      'auto: sandboxed when bubblewrap works here, else a warning; required: refuse to start without it; dangerously-off: the process sees all the gateway user sees',
    ),
  network: z
    .enum(['none', 'host', 'egress'])
    .default(DEFAULTS.sandbox.network)
    .describe(
      "none: own network namespace (loopback only, its own); egress: none, plus HTTP(S)_PROXY to the gateway's CONNECT proxy applying servers.<name>.egress and egress.allow; host: the gateway's network, loopback services included (warned)",
    ),
  writable: z
    .array(z.string().min(1))
    .default([...DEFAULTS.sandbox.writable])
    .describe('existing paths the process may read and write'),
  readable: z
    .array(z.string().min(1))
    .default([...DEFAULTS.sandbox.readable])
    .describe('existing paths the process may read'),
});

export const StdioServerSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: StringMapSchema.default({}),
  cwd: z.string().optional(),
  sandbox: SandboxSchema.prefault({}),
  /** Where a sandbox with `network: egress` may connect (besides the global egress.allow). */
  egress: ServerEgressSchema,
  ...CommonServerFields,
});

export const HttpServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: StringMapSchema.default({}),
  /**
   * The MCP revision Gatehouse speaks to this server: `auto` asks `server/discover` at each
   * start and speaks the stateless 2026-07-28 revision when the server lists it, else the
   * 2025 session era; `2025`/`2026` force one.
   */
  protocol: z
    .enum(['auto', '2025', '2026'])
    .default('auto')
    .describe('MCP revision spoken to this server: auto (server/discover decides), 2025 (sessions) or 2026 (stateless 2026-07-28)'),
  egress: ServerEgressSchema,
  ...CommonServerFields,
});

/** A built-in HTTP API tool runtime (`http: { baseUrl, openapi?, tools?, auth? }`). */
export const HttpApiServerSchema = z.strictObject({
  ...HttpApiServerFields,
  ...CommonServerFields,
});

/** A simple (unquoted) PostgreSQL identifier: role names, column names. */
const PgIdentifierSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a PostgreSQL identifier: letters, digits, "_" and "$", starting with a letter or "_" (at most 63 characters)');
const PgTableNameSchema = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a table name, optionally schema-qualified (schema.table)');
const PgFunctionNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a schema-qualified function name (schema.function), as stored in the catalog')
  .refine(
    (name) => !/^(pg_catalog|information_schema)\./.test(name),
    'built-in functions are decided from the catalog and cannot be listed; name a function defined in the database',
  );
const PgToolNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'tool names use letters, digits, "-" and "_" and start with a letter')
  .refine((name) => !name.includes('__'), 'tool names must not contain "__"')
  .refine((name) => name !== 'query' && name !== 'describe', '"query" and "describe" are built-in tools');

export const PostgresParamSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'parameter names use letters, digits and "_"'),
  type: z.enum(['string', 'integer', 'number', 'boolean', 'uuid', 'timestamp', 'json']),
  description: z.string().optional(),
  required: z.boolean().default(true),
  maxLength: z.number().int().min(1).max(1_000_000).optional().describe('strings: maximum length (default 10000)'),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
});

export const PostgresStatementSchema = z.strictObject({
  description: z.string().min(1),
  /** One parameterized statement: `$1`, `$2`, … bind `params` in order. Never string-built. */
  sql: z.string().min(1),
  params: z.array(PostgresParamSchema).default([]),
  /** Defaults from the statement: UPDATE, DELETE, MERGE and INSERT … ON CONFLICT DO UPDATE overwrite or delete. */
  destructive: z.boolean().optional(),
  /** Hard limit: more affected rows than this and the transaction is rolled back and the call refused. */
  maxRows: z.number().int().min(0).optional(),
});

export const PostgresSettingsSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(DEFAULTS.postgres.port),
    database: z.string().min(1),
    ...PostgresTlsFields,
    /**
     * The role-management credential (CREATEROLE). Used for nothing but creating and dropping
     * leased roles. `password` should be `vault:NAME`; a literal is warned about at start.
     */
    admin: z.strictObject({ user: z.string().min(1), password: z.string().min(1) }),
    /** Group → template role the leased role is made a member of (`IN ROLE`). */
    roles: z.record(z.string().min(1), PgIdentifierSchema).default({}),
    /** Template role for users in none of `roles`' groups; without it they are refused. */
    defaultRole: PgIdentifierSchema.optional(),
    lease: z
      .strictObject({
        ttl: DurationSchema.prefault(DEFAULTS.postgres.leaseTtl),
        /** Connections per leased role (its CONNECTION LIMIT). */
        poolSize: z.number().int().min(1).max(16).default(DEFAULTS.postgres.poolSize),
        /** How often the janitor drops expired leased roles and closes leases left behind (by a crash, or a node that died). */
        sweepInterval: DurationSchema.prefault(DEFAULTS.postgres.sweepInterval),
      })
      .prefault({}),
    query: z
      .strictObject({
        statementTimeout: DurationSchema.prefault(DEFAULTS.postgres.statementTimeout),
        maxRows: z.number().int().min(1).max(100_000).default(DEFAULTS.postgres.maxRows),
        maxBytes: ByteSizeSchema.prefault(DEFAULTS.postgres.maxBytes),
        /** Per table (`table` or `schema.table`): columns the `query` tool refuses to read. */
        denyColumns: z.record(PgTableNameSchema, z.array(PgIdentifierSchema).min(1)).default({}),
        /**
         * Functions defined in the database (not built into PostgreSQL; extensions included) that
         * `query` may call, as `schema.function`, all overloads. Built-in functions are decided
         * from the catalog's own facts and cannot be listed.
         */
        allowFunctions: z.array(PgFunctionNameSchema).default([]),
      })
      .prefault({}),
    /** Write (or fixed read) tools: parameterized statements declared here, e.g. annotate_record. */
    statements: z.record(PgToolNameSchema, PostgresStatementSchema).default({}),
  })
  .superRefine((pg, ctx) => {
    if (pg.lease.ttl < 1000) ctx.addIssue({ code: 'custom', path: ['lease', 'ttl'], message: 'must be at least 1s' });
    if (pg.lease.sweepInterval < 1000 || pg.lease.sweepInterval > 60 * 60_000)
      ctx.addIssue({ code: 'custom', path: ['lease', 'sweepInterval'], message: 'must be between 1s and 1h' });
    if (pg.lease.ttl > 60 * 60_000)
      ctx.addIssue({
        code: 'custom',
        path: ['lease', 'ttl'],
        message: `may not exceed ${DEFAULTS.postgres.leaseMaxTtl} (just-in-time credentials live an hour at most)`,
      });
    if (pg.query.statementTimeout >= pg.lease.ttl) {
      ctx.addIssue({
        code: 'custom',
        path: ['query', 'statementTimeout'],
        message: 'must be shorter than lease.ttl (a statement must be able to finish inside its lease)',
      });
    }
    if (Object.keys(pg.roles).length === 0 && pg.defaultRole === undefined) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'map at least one group to a template role (or set defaultRole)' });
    }
  });

/** A built-in PostgreSQL tool runtime: JIT roles per user, guarded queries, declared statements. */
export const PostgresServerSchema = z.strictObject({
  postgres: PostgresSettingsSchema,
  ...CommonServerFields,
});

/** A connector written with the SDK (`connector: FILE`), in its own sandboxed process. */
export const ConnectorServerSchema = z.strictObject({
  ...ConnectorServerFields,
  ...CommonServerFields,
});

export const ServerSchema = z.union([StdioServerSchema, HttpServerSchema, PostgresServerSchema, HttpApiServerSchema, ConnectorServerSchema]);

const NameListSchema = z.array(z.string().min(1)).default([]);

export const AccessRuleSchema = z.strictObject({
  allow: z.strictObject({
    users: NameListSchema,
    groups: NameListSchema,
    servers: NameListSchema.describe('server names, or "*" for every server'),
    tools: z.array(z.string()).optional().describe('qualified tool names (server__tool); all tools of the servers when absent'),
  }),
});

const GroupNameSchema = z.string().regex(/^[A-Za-z0-9*][A-Za-z0-9._:@+-]{0,127}$/, 'group names use letters, digits and . _ : @ + -');

const CidrSchema = z.string().refine((value) => isCidr(value), { message: 'not a CIDR network (e.g. 10.0.0.0/8 or 2001:db8::/32)' });

export const UpstreamIdpSchema = z.strictObject({
  /** Label of the sign-in button, e.g. "Acme SSO". */
  name: z.string().min(1).default(DEFAULTS.identity.upstream.name),
  issuer: z.url({ protocol: /^https?$/ }).describe('the IdP issuer; its /.well-known/openid-configuration is used'),
  clientId: z.string().min(1),
  /** Use `${VAR}`: resolved from the environment at start, never logged. */
  clientSecret: z.string().min(1).optional(),
  scopes: z.array(z.string().min(1)).default([...DEFAULTS.identity.upstream.scopes]),
  /** Claim that becomes the Gatehouse user name (token `sub`). */
  usernameClaim: z.string().min(1).default(DEFAULTS.identity.upstream.usernameClaim),
  /** Claim holding groups or roles (an array or a space-separated string). */
  groupClaim: z.string().min(1).default(DEFAULTS.identity.upstream.groupClaim),
  /** Upstream group → Gatehouse group. Unmapped upstream groups are dropped unless keepUnmappedGroups. */
  groupMap: z.record(z.string(), z.union([GroupNameSchema, z.array(GroupNameSchema)])).default({}),
  keepUnmappedGroups: z.boolean().default(false),
  /** `amr` values from the IdP's ID token that count as multi-factor authentication. */
  mfaAmrValues: z.array(z.string()).default([...DEFAULTS.identity.upstream.mfaAmrValues]),
  /** Allows an http:// issuer (tests and local IdPs only). Prints a warning at start. */
  dangerouslyAllowHttpIssuer: z.boolean().default(false),
});

export const ConditionalAccessSchema = z.strictObject({
  /** Members must complete MFA (TOTP, or an MFA `amr` from the upstream IdP). */
  mfa: z.boolean().default(false),
  /** Members may sign in and call /mcp only from these networks. */
  networks: z.array(CidrSchema).optional(),
  /** Longest a sign-in lasts for members before they must sign in again. */
  maxSessionAge: DurationSchema.optional(),
});

export const OAuthClientSchema = z.strictObject({
  clientId: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'client ids are printable ASCII without spaces'),
  clientName: z.string().min(1).optional(),
  redirectUris: z.array(z.string().min(1)).min(1),
  /** Confidential clients only; use `${VAR}`. Public clients (the default) authenticate with PKCE alone. */
  clientSecret: z.string().min(1).optional(),
  grantTypes: z
    .array(z.enum(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange']))
    .default(['authorization_code', 'refresh_token']),
  /** Tokens for this client must be DPoP-bound (RFC 9449). */
  dpopBoundAccessTokens: z.boolean().default(false),
});

const PeopleSchema = z.strictObject({ users: NameListSchema, groups: NameListSchema });

const WebhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** `json`: Gatehouse's own event; `slack`: a Slack incoming-webhook message. */
  format: z.enum(['json', 'slack']).default('json'),
  /** Values may contain `${VAR}`. */
  headers: StringMapSchema.default({}),
  timeout: DurationSchema.prefault(DEFAULTS.approvals.webhookTimeout),
});

export const ConfigSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default(DEFAULTS.listen.host),
        port: z.number().int().min(0).max(65535).default(DEFAULTS.listen.port),
      })
      .prefault({}),
    /** The URL agents use to reach Gatehouse; the token audience is `${publicUrl}/mcp`. */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    dataDir: z.string().min(1).default(DEFAULTS.dataDir),
    /** Embedded SQLite in dataDir by default; `postgres` for several nodes sharing one store. */
    storage: StorageSchema.prefault({}),
    servers: z.record(ServerNameSchema, ServerSchema).default({}),
    access: z.array(AccessRuleSchema).default([]),
    /** Folder of Cedar policies (`*.cedar`) and their schema (`*.cedarschema`). When set, it replaces `access:`. */
    policies: z.string().min(1).optional(),
    policySettings: z
      .strictObject({
        /** IANA time zone of `context.time` (deploy windows and the like). */
        timeZone: z
          .string()
          .default(DEFAULTS.policySettings.timeZone)
          .refine((zone) => {
            try {
              new Intl.DateTimeFormat('en-US', { timeZone: zone });
              return true;
            } catch {
              return false;
            }
          }, 'unknown time zone (use an IANA name such as UTC or Europe/Berlin)'),
        /** Approval for tools annotated destructive when no deciding policy sets @approval. */
        destructiveTools: z.enum(['none', 'confirm', 'four-eyes']).default(DEFAULTS.policySettings.destructiveTools),
      })
      .prefault({}),
    approvals: z
      .strictObject({
        /** How long an approval request (and the approval it gets) stays valid. */
        ttl: DurationSchema.prefault(DEFAULTS.approvals.ttl),
        /** How long the agent's call waits for a decision before it returns "pending". */
        wait: DurationSchema.prefault(DEFAULTS.approvals.wait),
        progressInterval: DurationSchema.prefault(DEFAULTS.approvals.progressInterval),
        /** Who may approve calls, per server name ('*': every server). */
        approvers: z.record(z.string(), PeopleSchema).default({}),
        /** Who may approve their own request in an emergency, with a written reason. */
        breakGlass: PeopleSchema.extend({ minReasonLength: z.number().int().min(1).default(DEFAULTS.approvals.breakGlassMinReason) }).prefault({}),
        /** Groups of people approving from the CLI (`--as`) whom the users store does not know; the store's groups win. */
        directory: z.record(z.string(), z.array(z.string())).default({}),
        /** A console approval needs a second factor at most this old. */
        consoleMfaMaxAge: DurationSchema.prefault(DEFAULTS.approvals.consoleMfaMaxAge),
        webhooks: z.array(WebhookSchema).default([]),
        /**
         * Let the confirm tier be satisfied by a yes in the MCP client's own form (elicitation,
         * form mode). The client is untrusted and can answer itself: off by default, warned about
         * at start-up. Without it the person confirms on Gatehouse's page (URL mode) or the console.
         */
        dangerouslyAllowFormConfirm: z.boolean().default(DEFAULTS.approvals.dangerouslyAllowFormConfirm),
      })
      .prefault({}),
    rateLimits: z
      .strictObject({
        enabled: z.boolean().default(DEFAULTS.rateLimits.enabled),
        /** Per user (all their calls). */
        user: LimitSchema.prefault(DEFAULTS.rateLimits.user),
        /** Per user and tool. */
        tool: LimitSchema.prefault(DEFAULTS.rateLimits.tool),
        /** Per OAuth client (all users of it). */
        client: LimitSchema.prefault(DEFAULTS.rateLimits.client),
        /** Per-tool overrides of `tool`, by qualified name (server__tool). */
        tools: z.record(z.string(), LimitSchema).default({}),
        /** Counters in Redis (for very high rates) instead of memory or the PostgreSQL storage. */
        redis: RateLimitRedisSchema.optional(),
      })
      .prefault({}),
    /**
     * The same Redis counters spelled `ratelimit.redis` (the name the cluster documentation and
     * older configs use). Loading moves it to `rateLimits.redis`; setting both is an error.
     */
    ratelimit: z.strictObject({ redis: RateLimitRedisSchema.optional() }).optional(),
    naming: z
      .strictObject({
        mode: z.enum(['auto', 'always', 'never']).default(DEFAULTS.naming.mode),
        separator: z.literal('__').default(DEFAULTS.naming.separator),
      })
      .prefault({}),
    limits: z
      .strictObject({
        maxRequestBody: ByteSizeSchema.prefault(DEFAULTS.limits.maxRequestBody),
        maxUpstreamResponse: ByteSizeSchema.prefault(DEFAULTS.limits.maxUpstreamResponse),
        upstreamTimeout: DurationSchema.prefault(DEFAULTS.limits.upstreamTimeout),
        maxSessionsPerUser: z.number().int().min(1).default(DEFAULTS.limits.maxSessionsPerUser),
        sessionIdleTimeout: DurationSchema.prefault(DEFAULTS.limits.sessionIdleTimeout),
        /** Most messages in one JSON-RPC batch (sessions on MCP 2025-03-26; later revisions have no batches). */
        maxBatch: z.number().int().min(1).max(1000).default(DEFAULTS.limits.maxBatch),
        /** How long a stateless request waiting for the client's input (an InputRequiredResult) waits for the retry. */
        inputRequiredTimeout: DurationSchema.prefault(DEFAULTS.limits.inputRequiredTimeout),
      })
      .prefault({}),
    tokens: z
      .strictObject({
        defaultTtl: DurationSchema.prefault(DEFAULTS.tokens.defaultTtl),
        maxTtl: DurationSchema.prefault(DEFAULTS.tokens.maxTtl),
      })
      .prefault({})
      .refine((t) => t.maxTtl <= 15 * 60_000, { message: 'maxTtl may not exceed 15m', path: ['maxTtl'] })
      .refine((t) => t.defaultTtl <= t.maxTtl, { message: 'defaultTtl may not exceed maxTtl', path: ['defaultTtl'] }),
    audit: z
      .strictObject({
        checkpointEvery: z.number().int().min(1).default(DEFAULTS.audit.checkpointEvery),
        checkpointInterval: DurationSchema.prefault(DEFAULTS.audit.checkpointInterval),
        /**
         * What an audit commit waits for before the call goes on: `fsync` (the records survive a
         * power loss) or `os` (written to the operating system: they survive the gateway being
         * killed, not a power loss). Intent records are written before the upstream call either way.
         */
        sync: z.enum(['fsync', 'os']).default(DEFAULTS.audit.sync),
      })
      .prefault({}),
    upstream: z
      .strictObject({
        restartBackoffInitial: DurationSchema.prefault(DEFAULTS.upstream.restartBackoffInitial),
        restartBackoffMax: DurationSchema.prefault(DEFAULTS.upstream.restartBackoffMax),
      })
      .prefault({}),
    /**
     * Proxies (CIDRs) whose Forwarded / X-Forwarded-For headers are believed. Empty: the
     * headers are ignored and the TCP peer is the client.
     */
    trustedProxies: z.array(CidrSchema).default([]),
    /** Outbound connections that Gatehouse makes on the operator's behalf (approval webhooks, the upstream IdP). */
    egress: z
      .strictObject({
        /** Non-public ranges these may reach (e.g. an IdP on the office network). Cloud metadata addresses stay refused. */
        allowAddresses: z.array(CidrSchema).default([]),
        /** Hosts (exact, or `*.example.com`) every server connector may reach besides its own URL's host and its `egress.allow`. */
        allow: z.array(HostPatternSchema).default([]),
      })
      .prefault({}),
    /** Prometheus metrics on a listener of their own (off when absent). */
    metrics: MetricsConfigSchema.optional(),
    /** OpenTelemetry traces, exported over OTLP/HTTP (off when absent). */
    tracing: TracingConfigSchema.optional(),
    cors: z
      .strictObject({
        /** Extra browser origins allowed to call /mcp (exact match). publicUrl's origin is always allowed. */
        allowedOrigins: z.array(z.string()).default([]),
      })
      .prefault({}),
    /** The output sanitizer: detectors, actions per classification, clearance. */
    sanitize: SanitizeConfigSchema.prefault({}),
    log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).prefault({}),
    vault: z
      .strictObject({
        /** Master key file (outside the data dir). GATEHOUSE_MASTER_KEY / GATEHOUSE_MASTER_KEY_FILE take precedence. */
        keyFile: z.string().min(1).optional(),
      })
      .prefault({}),
    identity: z
      .strictObject({
        /** Built-in accounts (`gatehouse users add`). */
        localAccounts: z.boolean().default(DEFAULTS.identity.localAccounts),
        /** A sign-in at the authorization server lasts this long; refresh tokens end with it. */
        sessionMaxAge: DurationSchema.prefault(DEFAULTS.identity.sessionMaxAge),
        /** Issuer label shown in authenticator apps for TOTP. */
        mfaIssuer: z.string().min(1).default(DEFAULTS.identity.mfaIssuer),
        lockout: z
          .strictObject({
            threshold: z.number().int().min(1).default(DEFAULTS.identity.lockout.threshold),
            baseDelay: DurationSchema.prefault(DEFAULTS.identity.lockout.baseDelay),
            maxDelay: DurationSchema.prefault(DEFAULTS.identity.lockout.maxDelay),
          })
          .prefault({}),
        upstream: UpstreamIdpSchema.optional(),
        /** Per group (or "*" for everyone): MFA, source networks, session length. The strictest rule of all a user's groups applies. */
        conditionalAccess: z.record(GroupNameSchema, ConditionalAccessSchema).default({}),
      })
      .prefault({}),
    oauth: z
      .strictObject({
        /** The built-in authorization server (login, consent, tokens). */
        enabled: z.boolean().default(DEFAULTS.oauth.enabled),
        /** Nothing token-ish is written to disk and no refresh tokens are issued: a restart signs everyone out. */
        memoryOnly: z.boolean().default(DEFAULTS.oauth.memoryOnly),
        refreshTokenTtl: DurationSchema.prefault(DEFAULTS.oauth.refreshTokenTtl),
        /** Pre-registered clients. */
        clients: z.array(OAuthClientSchema).default([]),
        /** RFC 7591 dynamic client registration (older MCP clients). */
        dynamicRegistration: z.boolean().default(DEFAULTS.oauth.dynamicRegistration),
        /**
         * Dynamic client registration: `open` or `off`. Client ID Metadata Documents are the
         * preferred way for MCP clients to identify themselves (MCP 2026-07-28 deprecates DCR);
         * when set, this wins over `dynamicRegistration`.
         */
        registration: z.enum(['open', 'off']).optional(),
        clientMetadataDocuments: z
          .strictObject({
            enabled: z.boolean().default(DEFAULTS.oauth.clientMetadataDocuments.enabled),
            maxBytes: ByteSizeSchema.prefault(DEFAULTS.oauth.clientMetadataDocuments.maxBytes),
            /** PEM bundle trusted in addition to the system roots (documents on a private PKI). */
            caFile: z.string().min(1).optional(),
            /** Fetches documents from loopback and private addresses (tests only). Prints a warning at start. */
            dangerouslyAllowPrivateAddresses: z.boolean().default(false),
          })
          .prefault({}),
        dpop: z.strictObject({ required: z.boolean().default(DEFAULTS.oauth.dpop.required) }).prefault({}),
        tokenExchange: z
          .strictObject({
            enabled: z.boolean().default(DEFAULTS.oauth.tokenExchange.enabled),
            /** Client ids that may exchange tokens, besides pre-registered clients whose `grantTypes` include the grant. */
            clients: z
              .array(z.string().regex(/^[\x21-\x7e]{1,255}$/, 'client ids are printable ASCII without spaces'))
              .default([...DEFAULTS.oauth.tokenExchange.clients]),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const names = new Set(Object.keys(config.servers));
    config.access.forEach((rule, i) => {
      rule.allow.servers.forEach((server, j) => {
        if (server !== '*' && !names.has(server)) {
          ctx.addIssue({ code: 'custom', path: ['access', i, 'allow', 'servers', j], message: `unknown server "${server}"` });
        }
      });
      if (rule.allow.users.length === 0 && rule.allow.groups.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['access', i, 'allow'], message: 'a rule needs at least one of "users" or "groups"' });
      }
      if (rule.allow.servers.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['access', i, 'allow', 'servers'], message: 'a rule needs at least one server (or "*")' });
      }
    });
    const clientIds = new Set<string>();
    config.oauth.clients.forEach((client, i) => {
      if (clientIds.has(client.clientId))
        ctx.addIssue({ code: 'custom', path: ['oauth', 'clients', i, 'clientId'], message: `duplicate client id "${client.clientId}"` });
      clientIds.add(client.clientId);
    });
    if (config.policies !== undefined && config.access.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['access'],
        message: 'access: has no effect when policies: is set (the Cedar policies decide); remove one of them',
      });
    }
    for (const server of Object.keys(config.approvals.approvers)) {
      if (server !== '*' && !names.has(server))
        ctx.addIssue({ code: 'custom', path: ['approvals', 'approvers', server], message: `unknown server "${server}"` });
    }
    if (config.ratelimit?.redis && config.rateLimits.redis)
      ctx.addIssue({ code: 'custom', path: ['ratelimit', 'redis'], message: 'set the Redis counters once: rateLimits.redis or ratelimit.redis, not both' });
    for (const tool of Object.keys(config.rateLimits.tools)) {
      const server = tool.split('__')[0] as string;
      if (!tool.includes('__') || !names.has(server))
        ctx.addIssue({ code: 'custom', path: ['rateLimits', 'tools', tool], message: 'use a qualified tool name server__tool of a configured server' });
    }
    const prefixes = new Map<string, string>();
    for (const [name, server] of Object.entries(config.servers)) {
      const prefix = server.prefix ?? name;
      const other = prefixes.get(prefix);
      if (other) ctx.addIssue({ code: 'custom', path: ['servers', name, 'prefix'], message: `prefix "${prefix}" is already used by server "${other}"` });
      prefixes.set(prefix, name);
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type ServerConfig = z.infer<typeof ServerSchema>;
export type StdioServerConfig = z.infer<typeof StdioServerSchema>;
export type HttpServerConfig = z.infer<typeof HttpServerSchema>;
export type SandboxConfig = z.infer<typeof SandboxSchema>;
export type PostgresServerConfig = z.infer<typeof PostgresServerSchema>;
export type HttpApiServerConfig = z.infer<typeof HttpApiServerSchema>;
export type ConnectorServerConfig = z.infer<typeof ConnectorServerSchema>;
export type PostgresSettings = z.infer<typeof PostgresSettingsSchema>;
export type PostgresStatementConfig = z.infer<typeof PostgresStatementSchema>;
export type PostgresParamConfig = z.infer<typeof PostgresParamSchema>;
/** The servers the MCP upstream connector proxies. */
export type McpServerConfig = StdioServerConfig | HttpServerConfig;
export type AccessRule = z.infer<typeof AccessRuleSchema>;
export type Isolation = z.infer<typeof IsolationSchema>;
export type UpstreamIdpConfig = z.infer<typeof UpstreamIdpSchema>;
export type ConditionalAccessRule = z.infer<typeof ConditionalAccessSchema>;
export type OAuthClientConfig = z.infer<typeof OAuthClientSchema>;
export type LimitSpec = z.infer<typeof LimitSchema>;
export type WebhookConfig = z.infer<typeof WebhookSchema>;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}

export function isPostgresServer(server: ServerConfig): server is PostgresServerConfig {
  return 'postgres' in server;
}

export function isHttpApiServer(server: ServerConfig): server is HttpApiServerConfig {
  return 'http' in server;
}

export function isConnectorServer(server: ServerConfig): server is ConnectorServerConfig {
  return 'connector' in server;
}

export function isMcpServer(server: ServerConfig): server is McpServerConfig {
  return !isPostgresServer(server) && !isHttpApiServer(server) && !isConnectorServer(server);
}
