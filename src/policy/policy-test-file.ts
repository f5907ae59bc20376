import { ClassificationSchema } from '../sanitize/classification.js';
import { z } from 'zod';
import type { Principal } from '../tokens/index.js';
import { parseDuration } from '../util/duration.js';
import { InvalidPathError } from '../errors/index.js';
import type { CedarAuthorizer } from './cedar-authorizer.js';
import { normalizePathArguments } from './path-arguments.js';
import type { AuthzRequest, Decision } from './types.js';

const ToolFactsSchema = z.strictObject({
  destructive: z.boolean().optional(),
  readOnly: z.boolean().optional(),
  idempotent: z.boolean().optional(),
  openWorld: z.boolean().optional(),
  classification: ClassificationSchema.optional(),
});

const CaseSchema = z.strictObject({
  name: z.string().optional(),
  user: z.string().min(1),
  groups: z.array(z.string()).default([]),
  /** Exactly one of tool / prompt / resource (qualified `server__name`; a resource is `server:URI`). */
  tool: z.string().optional(),
  prompt: z.string().optional(),
  resource: z.string().optional(),
  args: z.record(z.string(), z.unknown()).default({}),
  /** Ask the list question: would the item be shown (`allow`) or hidden (`deny`)? */
  list: z.boolean().default(false),
  time: z.string().optional(),
  ip: z.string().optional(),
  /** Age of the user's last second factor, e.g. `5m`; absent means no MFA. */
  mfaAge: z.string().optional(),
  claims: z.record(z.string(), z.unknown()).default({}),
  scopes: z.array(z.string()).default(['mcp']),
  client: z.string().default('test-client'),
  approval: z.strictObject({ granted: z.boolean(), breakGlass: z.boolean().default(false) }).optional(),
  expect: z.enum(['allow', 'deny', 'require_approval']),
  reason: z.string().optional(),
  policy: z.string().optional(),
  level: z.enum(['four-eyes', 'confirm']).optional(),
});

export const PolicyTestFileSchema = z.strictObject({
  /** Policy folder, relative to the test file. Else `policies:` of --config. */
  policies: z.string().optional(),
  timeZone: z.string().optional(),
  destructiveTools: z.enum(['none', 'confirm', 'four-eyes']).optional(),
  /** Facts about tools (annotations, classification) by qualified name; no upstream is started. */
  tools: z.record(z.string(), ToolFactsSchema).default({}),
  defaults: CaseSchema.partial().default({}),
  cases: z.array(z.record(z.string(), z.unknown())).min(1),
});

export type PolicyTestFile = z.infer<typeof PolicyTestFileSchema>;
export type PolicyTestCase = z.infer<typeof CaseSchema>;

export interface CaseResult {
  name: string;
  ok: boolean;
  expected: string;
  got: Decision;
  problems: string[];
}

/** Parses and checks the cases (defaults merged in). Throws an Error listing every problem. */
export function parseCases(file: PolicyTestFile): PolicyTestCase[] {
  const problems: string[] = [];
  const cases = file.cases.map((raw, i) => {
    const parsed = CaseSchema.safeParse({ ...file.defaults, ...raw });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`cases[${i}]${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
      return undefined;
    }
    const targets = [parsed.data.tool, parsed.data.prompt, parsed.data.resource].filter((t) => t !== undefined);
    if (targets.length !== 1) problems.push(`cases[${i}]: name exactly one of tool, prompt, resource`);
    if (parsed.data.tool !== undefined && !parsed.data.tool.includes('__')) problems.push(`cases[${i}].tool: use the qualified name server__tool`);
    if (parsed.data.prompt !== undefined && !parsed.data.prompt.includes('__')) problems.push(`cases[${i}].prompt: use the qualified name server__prompt`);
    if (parsed.data.resource !== undefined && !/^[^:]+:.+/.test(parsed.data.resource)) problems.push(`cases[${i}].resource: write server:URI`);
    if (parsed.data.time !== undefined && Number.isNaN(Date.parse(parsed.data.time))) problems.push(`cases[${i}].time: not an ISO date-time`);
    if (parsed.data.mfaAge !== undefined) {
      try {
        parseDuration(parsed.data.mfaAge);
      } catch (error) {
        problems.push(`cases[${i}].mfaAge: ${(error as Error).message}`);
      }
    }
    return parsed.data;
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return cases as PolicyTestCase[];
}

/** The policy request a test case describes. */
export function caseRequest(c: PolicyTestCase, tools: PolicyTestFile['tools']): AuthzRequest {
  const now = c.time ? Date.parse(c.time) : Date.now();
  const claims: Record<string, unknown> = { ...c.claims };
  if (c.mfaAge !== undefined) {
    claims.amr = ['pwd', 'otp'];
    claims.auth_time = Math.floor((now - parseDuration(c.mfaAge)) / 1000);
  }
  const principal: Principal = {
    sub: c.user,
    groups: c.groups,
    clientId: c.client,
    scopes: c.scopes,
    jti: 'policy-test',
    issuedAt: now,
    expiresAt: now + 60_000,
    act: [],
    authorizationDetails: undefined,
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : undefined,
    amr: Array.isArray(claims.amr) ? (claims.amr as string[]) : [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: { sub: c.user, ...claims },
  };
  const facts = { now, ip: c.ip, approval: c.approval };
  if (c.tool !== undefined) {
    const server = c.tool.slice(0, c.tool.indexOf('__'));
    const t = tools[c.tool] ?? {};
    return {
      principal,
      action: c.list ? 'list' : 'call',
      server,
      kind: 'tool',
      id: c.tool,
      args: c.args,
      annotations: { destructiveHint: t.destructive, readOnlyHint: t.readOnly, idempotentHint: t.idempotent, openWorldHint: t.openWorld },
      facts: { ...facts, method: 'tools/call' },
    };
  }
  if (c.prompt !== undefined) {
    return {
      principal,
      action: c.list ? 'list' : 'get',
      server: c.prompt.slice(0, c.prompt.indexOf('__')),
      kind: 'prompt',
      id: c.prompt,
      args: c.args,
      facts: { ...facts, method: 'prompts/get' },
    };
  }
  const resource = c.resource as string;
  const at = resource.indexOf(':');
  return {
    principal,
    action: c.list ? 'list' : 'read',
    server: resource.slice(0, at),
    kind: 'resource',
    id: resource.slice(at + 1),
    facts: { ...facts, method: 'resources/read' },
  };
}

export function runCase(authorizer: CedarAuthorizer, c: PolicyTestCase, tools: PolicyTestFile['tools'], index: number): CaseResult {
  const request = caseRequest(c, tools);
  let got: Decision;
  try {
    // Path arguments as the gateway normalises them before any policy runs (or refuses them).
    if (request.args) request.args = normalizePathArguments(request.args, {});
    const problem = authorizer.argumentProblem(request);
    got = problem ? { effect: 'deny', reason: 'invalid_arguments', message: problem } : authorizer.decide(request);
  } catch (error) {
    if (!(error instanceof InvalidPathError)) throw error;
    got = { effect: 'deny', reason: 'invalid_path', message: error.message };
  }
  const problems: string[] = [];
  if (got.effect !== c.expect) problems.push(`expected ${c.expect}, got ${got.effect}`);
  if (c.reason !== undefined && (got.effect === 'allow' || got.reason !== c.reason))
    problems.push(`expected reason ${c.reason}, got ${got.effect === 'allow' ? '(none)' : got.reason}`);
  if (c.policy !== undefined && got.policy !== c.policy) problems.push(`expected policy ${c.policy}, got ${got.policy ?? '(none)'}`);
  if (c.level !== undefined && (got.effect !== 'require_approval' || got.level !== c.level))
    problems.push(`expected level ${c.level}, got ${got.effect === 'require_approval' ? got.level : '(none)'}`);
  const target = c.tool ?? c.prompt ?? c.resource;
  return { name: c.name ?? `#${index + 1} ${c.user} ${c.list ? 'list' : 'call'} ${target}`, ok: problems.length === 0, expected: c.expect, got, problems };
}
