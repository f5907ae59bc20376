import { z } from 'zod';
import { parseBytes } from '../util/bytes.js';
import { parseDuration } from '../util/duration.js';

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
  },
  tokens: { defaultTtl: '5m', maxTtl: '15m' },
  audit: { checkpointEvery: 1000, checkpointInterval: '5m' },
  upstream: { restartBackoffInitial: '250ms', restartBackoffMax: '30s', isolation: 'shared' },
  log: { level: 'info' },
  policySettings: { timeZone: 'UTC', destructiveTools: 'four-eyes' },
  approvals: { ttl: '15m', wait: '30s', progressInterval: '5s', consoleMfaMaxAge: '15m', breakGlassMinReason: 10, webhookTimeout: '5s' },
  rateLimits: {
    enabled: true,
    user: { burst: '50/s', sustained: '1200/m' },
    tool: { burst: '20/s', sustained: '600/m' },
    client: { burst: '200/s', sustained: '6000/m' },
  },
} as const;

/** `20/s`, `600/m`, `5/30s`, `100/h`, `1000/d`: that many calls per window. */
export const RateSchema = z.string().transform((value, ctx) => {
  const match = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a rate; write calls/window, e.g. 20/s, 600/m, 5/30s` });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[3] as 'ms' | 's' | 'm' | 'h' | 'd'];
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

const ServerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'server names use letters, digits, "-" and "_" and start with a letter or digit')
  .refine((name) => !name.includes('__'), 'server names must not contain "__" (it separates server and tool names)');

export const DurationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

export const ByteSizeSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseBytes(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

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
  classification: z.enum(['public', 'internal', 'sensitive']).optional(),
});

const CommonServerFields = {
  /** Exposed name prefix; defaults to the server's own name. */
  prefix: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  isolation: IsolationSchema.default(DEFAULTS.upstream.isolation),
  timeout: DurationSchema.optional(),
  /**
   * Roots come from the agent's client, which Gatehouse treats as untrusted; some servers
   * (e.g. server-filesystem) widen their allowed directories to whatever roots a client names.
   * Off unless the operator opts in.
   */
  forwardRoots: z.boolean().default(false),
  tools: z.record(z.string(), ToolOverrideSchema).default({}),
};

export const StdioServerSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: StringMapSchema.default({}),
  cwd: z.string().optional(),
  ...CommonServerFields,
});

export const HttpServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: StringMapSchema.default({}),
  ...CommonServerFields,
});

export const ServerSchema = z.union([StdioServerSchema, HttpServerSchema]);

const NameListSchema = z.array(z.string().min(1)).default([]);

export const AccessRuleSchema = z.strictObject({
  allow: z.strictObject({
    users: NameListSchema,
    groups: NameListSchema,
    servers: NameListSchema.describe('server names, or "*" for every server'),
    tools: z.array(z.string()).optional().describe('qualified tool names (server__tool); all tools of the servers when absent'),
  }),
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
        /** Groups of people approving from the CLI (`--as`), until a users store provides them. */
        directory: z.record(z.string(), z.array(z.string())).default({}),
        /** A console approval needs a second factor at most this old. */
        consoleMfaMaxAge: DurationSchema.prefault(DEFAULTS.approvals.consoleMfaMaxAge),
        webhooks: z.array(WebhookSchema).default([]),
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
      })
      .prefault({}),
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
      })
      .prefault({}),
    upstream: z
      .strictObject({
        restartBackoffInitial: DurationSchema.prefault(DEFAULTS.upstream.restartBackoffInitial),
        restartBackoffMax: DurationSchema.prefault(DEFAULTS.upstream.restartBackoffMax),
      })
      .prefault({}),
    cors: z
      .strictObject({
        /** Extra browser origins allowed to call /mcp (exact match). publicUrl's origin is always allowed. */
        allowedOrigins: z.array(z.string()).default([]),
      })
      .prefault({}),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
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
    });
    if (config.policies !== undefined && config.access.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['access'], message: 'access: has no effect when policies: is set (the Cedar policies decide); remove one of them' });
    }
    for (const server of Object.keys(config.approvals.approvers)) {
      if (server !== '*' && !names.has(server)) ctx.addIssue({ code: 'custom', path: ['approvals', 'approvers', server], message: `unknown server "${server}"` });
    }
    for (const tool of Object.keys(config.rateLimits.tools)) {
      const server = tool.split('__')[0] as string;
      if (!tool.includes('__') || !names.has(server)) ctx.addIssue({ code: 'custom', path: ['rateLimits', 'tools', tool], message: 'use a qualified tool name server__tool of a configured server' });
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
export type AccessRule = z.infer<typeof AccessRuleSchema>;
export type Isolation = z.infer<typeof IsolationSchema>;
export type LimitSpec = z.infer<typeof LimitSchema>;
export type WebhookConfig = z.infer<typeof WebhookSchema>;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}
