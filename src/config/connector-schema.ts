import { z } from 'zod';
import { HttpAuthConfigSchema } from './http/auth-config.js';
import { HttpPropagateSchema } from './http-api-schema.js';
import { ServerEgressSchema } from './egress-schema.js';

/** A name handlers pass to `ctx.credential(name)`. */
const CredentialNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'credential names use letters, digits, "-" and "_" and start with a letter');

/**
 * How a connector process is confined. Its network is always none: `ctx.fetch` is made by the
 * gateway through the egress guard, so there is no network setting to loosen.
 */
export const ConnectorSandboxSchema = z
  .strictObject({
    mode: z
      .enum(['auto', 'required', 'dangerously-off'])
      .default('auto')
      .describe('auto: bubblewrap where it works, else a warning; required: refuse to start without it; dangerously-off: only a separate process'),
  })
  .prefault({});

/**
 * `servers.<name>.connector`: a connector written with `mcp-gatehouse/connector`, run in its own
 * sandboxed process. Its credentials are configured here (the same types as `http.auth`) and
 * handed to it one call at a time, for that call's user.
 */
export const ConnectorServerFields = {
  /** The connector module (.js, .mjs or .ts), relative to the config file's folder. */
  connector: z.string().min(1).describe('connector module file (.js, .mjs, .ts), relative to the config file'),
  /** name → credential provider; a handler asks with ctx.credential(name). */
  credentials: z
    .record(CredentialNameSchema, HttpAuthConfigSchema)
    .default({})
    .refine(
      (credentials) => Object.values(credentials).filter((c) => c.type === 'userOAuth').length <= 1,
      "at most one userOAuth credential per connector (a user's connection is kept per server)",
    ),
  /** Plain settings handed to every call as ctx.settings (a base URL, an account id). Never secrets: use credentials. */
  settings: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), z.union([z.string().max(4096), z.number(), z.boolean()])).default({}),
  /** Hosts ctx.fetch may reach (besides the global egress.allow). */
  egress: ServerEgressSchema,
  /** Context headers ctx.fetch adds. */
  propagate: HttpPropagateSchema,
  sandbox: ConnectorSandboxSchema,
};
