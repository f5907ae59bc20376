import { z } from 'zod';
import { HttpAuthConfigSchema } from './http/auth-config.js';
import { parseJsonPath } from './http/json-path.js';
import { pathTemplateProblem } from './http/path-template.js';
import { ServerEgressSchema } from './egress-schema.js';
import { ByteSizeSchema, DurationSchema } from './units.js';

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const JsonPathSchema = z.string().superRefine((value, ctx) => {
  try {
    parseJsonPath(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** A header name as RFC 9110 spells a token. */
const HeaderNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, 'a header name (RFC 9110 token)');
/** A configured value: literal text with `{param}` placeholders; no CR, LF or other control characters. */
const TemplateValueSchema = z
  .string()
  .max(4096)
  .refine((v) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v), 'control characters (CR, LF, …) are not allowed in a header or query value');

/** What the agent may receive from a tool's responses. */
export const HttpResponseRuleSchema = z.strictObject({
  /**
   * JSONPath expressions (`$.id`, `$.items[*].amount`, `$['total']`) of the fields the agent
   * receives; everything else is dropped. Absent: the whole JSON body.
   */
  fields: z.array(JsonPathSchema).min(1).optional(),
  /** Largest response body read (larger: the call fails, nothing is returned). */
  maxBytes: ByteSizeSchema.optional(),
  /**
   * Media types the agent receives as text (`application/json`, `text/plain`, `text/*`).
   * Other bodies are summarised as their type and length.
   */
  contentTypes: z.array(z.string().regex(/^[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+)$/, 'a media type such as application/json or text/*')).optional(),
});

/** A tool declared by hand: one HTTP request, built from the agent's arguments. */
export const HttpToolSchema = z.strictObject({
  method: z.enum(HTTP_METHODS),
  /** Path below baseUrl with `{param}` placeholders, each a whole segment: `/invoices/{id}`. */
  path: z.string().superRefine((value, ctx) => {
    const problem = pathTemplateProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  description: z.string().max(4096).optional(),
  /** JSON Schema of the arguments (an object schema). */
  input: z
    .looseObject({ type: z.literal('object').default('object') })
    .default({ type: 'object' })
    .describe('JSON Schema of the arguments'),
  /** Query parameters: name → value template (`{param}`); an absent argument omits the parameter. */
  query: z.record(z.string().min(1).max(128), TemplateValueSchema).default({}),
  /** Request headers: name → value template. */
  headers: z.record(HeaderNameSchema, TemplateValueSchema).default({}),
  /** JSON body: any JSON value whose strings may be `{param}` (the argument's value, typed). */
  body: z.unknown().optional(),
  response: HttpResponseRuleSchema.optional(),
});

/** Context headers sent to the API with every call. */
export const HttpPropagateSchema = z
  .strictObject({
    /** W3C `traceparent` (a new trace per call, recorded in the audit record). */
    traceparent: z.boolean().default(true),
    /** `X-Gatehouse-Actor`: the user the agent acts for. */
    actor: z.boolean().default(true),
    /** `X-Gatehouse-Request-Id`: the gateway request id, as in the audit log. */
    requestId: z.boolean().default(true),
    /** `X-Gatehouse-Purpose`: the tool, and the client's stated reason. */
    purpose: z.boolean().default(true),
  })
  .prefault({});

export const HttpApiSettingsSchema = z
  .strictObject({
    /** The API's base URL; tool paths are appended to its path. Arguments never change its scheme, host or port. */
    baseUrl: z.url({ protocol: /^https?$/ }).refine((u) => !new URL(u).search && !new URL(u).hash, 'baseUrl takes no query or fragment'),
    /** OpenAPI 3.0/3.1 document (file path, relative to the config file): each operation with an operationId becomes a tool. */
    openapi: z.string().min(1).optional(),
    /** Only these operationIds become tools. */
    include: z.array(z.string().min(1)).optional(),
    /** These operationIds do not become tools. */
    exclude: z.array(z.string().min(1)).default([]),
    /** Tools declared by hand (added to, or replacing, the document's operations of the same name). */
    tools: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'tool names use letters, digits, "-" and "_"'), HttpToolSchema).default({}),
    /** Default response rule for every tool. */
    response: HttpResponseRuleSchema.default({}),
    /** Response rules per tool name (operationId or hand-declared name). */
    responses: z.record(z.string(), HttpResponseRuleSchema).default({}),
    propagate: HttpPropagateSchema,
    /** Credentials for the API; the agent never sees them. Absent: none. */
    auth: HttpAuthConfigSchema.optional(),
    connectTimeout: DurationSchema.prefault('5s'),
  })
  .superRefine((http, ctx) => {
    if (!http.openapi && Object.keys(http.tools).length === 0)
      ctx.addIssue({ code: 'custom', path: ['tools'], message: 'declare tools, or name an OpenAPI document in openapi' });
  });

/** A built-in HTTP API tool runtime. */
export const HttpApiServerFields = {
  http: HttpApiSettingsSchema,
  egress: ServerEgressSchema,
};

export type HttpApiSettings = z.infer<typeof HttpApiSettingsSchema>;
export type HttpToolConfig = z.infer<typeof HttpToolSchema>;
export type HttpResponseRule = z.infer<typeof HttpResponseRuleSchema>;
