import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { parseDocument } from 'yaml';
import { isPostgresServer, type LoadedConfig } from '../../config/index.js';
import { InvalidPathError, UsageError } from '../../errors/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { AuditLog } from '../../audit/index.js';
import { connectorsFromConfig } from '../../connectors/from-config.js';
import type { UpstreamHooks } from '../../connectors/mcp-upstream/index.js';
import { openStorage } from '../../storage/index.js';
import { createLogger } from '../../log/index.js';
import { KeyRing } from '../../tokens/index.js';
import { Broker, openVault } from '../../vault/index.js';
import {
  AccessListAuthorizer,
  CedarAuthorizer,
  formatProblem,
  InputSchemaValidator,
  loadPolicyFolder,
  PolicyLoadError,
  type AuthzRequest,
  type CompiledPolicySet,
} from '../../policy/index.js';
import { decisionLine, formatExplanation } from '../../policy/explain.js';
import { policySettingsOf } from '../../policy/open-policies.js';
import { normalizePathArguments } from '../../policy/path-arguments.js';
import { effectiveAnnotations, trustedAnnotations } from '../../pinning/effective-annotations.js';
import { parseCases, PolicyTestFileSchema, runCase } from '../../policy/policy-test-file.js';
import { localPrincipal } from '../../tokens/principal.js';
import { defineCommand, ExitCode, type CommandContext } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

function loadPolicies(ctx: CommandContext<unknown>, folder: string): CompiledPolicySet | undefined {
  try {
    return loadPolicyFolder(folder);
  } catch (error) {
    if (!(error instanceof PolicyLoadError)) throw error;
    if (ctx.values.json) ctx.print({ ok: false, folder, problems: error.problems.map(formatProblem) }, '');
    else ctx.err(`gatehouse: the policies in ${folder} cannot be loaded:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    return undefined;
  }
}

function parseJsonOption(value: string | undefined, name: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`${name}: not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${name}: must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Reading a catalog has no client session: requests an upstream makes of one are refused. */
const NO_CLIENT: UpstreamHooks = {
  onServerRequest: async () => {
    throw new McpError(ErrorCode.InternalError, 'Gatehouse cannot attribute this request to a single client session.');
  },
  onNotification: () => undefined,
  onCatalogChanged: () => undefined,
  onStateChanged: () => undefined,
};

/** The tool as the gateway would see it: from the server's live catalog (started briefly). */
async function liveTool(config: LoadedConfig, server: string, name: string, env: NodeJS.ProcessEnv): Promise<{ tool?: Tool; error?: string }> {
  const log = createLogger({ level: 'silent' });
  // The same connector the gateway would build (env and vault references resolved the same way),
  // for this one server: the storage, audit log, vault and broker it needs, nothing else.
  const storage = await openStorage(config);
  const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), log, {
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointInterval,
  });
  const broker = new Broker({ store: storage.leases, audit, log });
  const vault = openVault(config, storage, env, audit, undefined);
  const connector = config.servers[server]
    ? (await connectorsFromConfig({ ...config, servers: { [server]: config.servers[server] } }, { env, log, hooks: NO_CLIENT, vault, broker, audit })).get(
        server,
      )
    : undefined;
  try {
    if (!connector) return { error: `no server "${server}"` };
    const catalog = await Promise.race([
      connector.start().then(() => connector.catalog({ sub: 'gatehouse-policy-explain', sessionId: 'policy-explain' })),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 15s')), 15_000).unref()),
    ]);
    const tool = catalog.tools.find((t) => t.name === name);
    return tool ? { tool } : { error: `the server "${server}" has no tool "${name}"` };
  } catch (error) {
    return { error: `could not read the catalog of "${server}": ${(error as Error).message}` };
  } finally {
    await connector?.stop().catch(() => undefined);
    await broker.close('shutdown').catch(() => undefined);
    await audit.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
  }
}

export const policyExplainCommand = defineCommand(COMMAND_SPECS.policyExplain, async (ctx) => {
  if (!ctx.values.config) throw new UsageError('--config FILE is required');
  if (!ctx.values.user) throw new UsageError('--user is required');
  const qualified = ctx.values.tool;
  if (!qualified) throw new UsageError('--tool SERVER__TOOL is required');
  const at = qualified.indexOf('__');
  if (at <= 0 || at + 2 >= qualified.length) throw new UsageError(`--tool: use the qualified name SERVER__TOOL, got "${qualified}"`);
  const server = qualified.slice(0, at);
  const name = qualified.slice(at + 2);
  const args = parseJsonOption(ctx.values.args, '--args') ?? {};
  const extraAnnotations = parseJsonOption(ctx.values.annotations, '--annotations') as ToolAnnotations | undefined;
  const now = ctx.values.time ? Date.parse(ctx.values.time) : Date.now();
  if (Number.isNaN(now)) throw new UsageError(`--time: not an ISO date-time: "${ctx.values.time}"`);
  let mfaAgeMs: number | undefined;
  if (ctx.values['mfa-age'] !== undefined) {
    const { parseDuration } = await import('../../util/duration.js');
    try {
      mfaAgeMs = parseDuration(ctx.values['mfa-age']);
    } catch (error) {
      throw new UsageError(`--mfa-age: ${(error as Error).message}`);
    }
  }
  const config = ctx.config();
  if (!config.servers[server]) {
    ctx.err(`gatehouse policy explain: the config has no server "${server}" (servers: ${Object.keys(config.servers).join(', ') || 'none'})`);
    return ExitCode.Failed;
  }

  const notes: string[] = [];
  let annotations: ToolAnnotations | undefined;
  let inputSchema: object | undefined;
  if (!ctx.values.offline) {
    const live = await liveTool(config, server, name, ctx.io.env);
    if (live.tool) {
      annotations = live.tool.annotations;
      inputSchema = live.tool.inputSchema;
      notes.push(`annotations and input schema from the live catalog of "${server}"`);
    } else notes.push(`${live.error}; annotations from config only`);
  } else notes.push('offline: annotations from config (and --annotations) only');
  const override = config.servers[server]?.tools[name]?.annotations;
  // As the gateway decides: a proxied upstream's own annotations only restrict its tool.
  const effective = isPostgresServer(config.servers[server]) ? trustedAnnotations(annotations, override) : effectiveAnnotations(annotations, override);
  annotations = { ...effective, ...extraAnnotations };

  const groups = (ctx.values.groups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const claims: Record<string, unknown> = { sub: ctx.values.user };
  if (mfaAgeMs !== undefined) Object.assign(claims, { amr: ['pwd', 'otp'], auth_time: Math.floor((now - mfaAgeMs) / 1000) });
  const principal = localPrincipal({
    sub: ctx.values.user,
    groups,
    clientId: 'gatehouse-cli',
    jti: 'policy-explain',
    issuedAt: now,
    expiresAt: now + 60_000,
    claims,
  });
  // Path arguments as the gateway normalises them before any policy runs (or refuses them).
  let normalized: Record<string, unknown>;
  try {
    normalized = normalizePathArguments(args, { configured: config.servers[server]?.tools[name]?.pathArguments, inputSchema });
  } catch (error) {
    if (!(error instanceof InvalidPathError)) throw error;
    const data = { decision: 'deny', effect: 'deny', reason: 'invalid_path', message: error.message, tool: qualified };
    ctx.print(data, `decision: deny\nreason:   invalid_path\nmessage:  ${error.message}\n(the gateway refuses this path with -32602 before any policy runs)`);
    return ExitCode.Ok;
  }
  if (normalized !== args) notes.push(`path arguments normalised as the gateway does: ${JSON.stringify(normalized)}`);
  const request: AuthzRequest = {
    principal,
    action: 'call',
    server,
    kind: 'tool',
    id: qualified,
    args: normalized,
    annotations,
    facts: { now, ip: ctx.values.ip, method: 'tools/call' },
  };

  const check = new InputSchemaValidator().check(qualified, inputSchema, normalized);
  if (!check.ok) {
    const data = { decision: 'deny', effect: 'deny', reason: 'invalid_arguments', message: check.message, tool: qualified };
    ctx.print(
      data,
      `decision: deny\nreason:   invalid_arguments\nmessage:  ${check.message}\n(the gateway refuses these arguments with -32602 before any policy runs)`,
    );
    return ExitCode.Ok;
  }

  if (!config.policies) {
    const decision = new AccessListAuthorizer(config.access).decide(request);
    const text = [
      decisionLine(decision),
      ...(decision.effect === 'deny' ? [`reason:   ${decision.reason}`, `message:  ${decision.message}`] : []),
      `policy:   ${decision.policy ?? '(none)'}`,
      'note: no policies: folder is configured; the access: list decides',
    ];
    ctx.print({ decision: decision.effect, ...decision, mode: 'access' }, text.join('\n'));
    return ExitCode.Ok;
  }
  const set = loadPolicies(ctx as never, config.policies);
  if (!set) return ExitCode.Failed;
  const authorizer = new CedarAuthorizer(set, policySettingsOf(config));
  const explanation = authorizer.explain(request, { plain: ctx.values.plain === true });
  const d = explanation.decision;
  ctx.print(
    {
      decision: d.effect,
      ...d,
      errors: explanation.result?.errors ?? [],
      applicable: explanation.applicable.map((p) => ({ id: p.id, effect: p.effect, source: p.source, conditional: p.conditional })),
      request: explanation.request,
      notes,
    },
    formatExplanation(explanation, notes),
  );
  return ExitCode.Ok;
});

export const policyTestCommand = defineCommand(COMMAND_SPECS.policyTest, async (ctx) => {
  const file = path.resolve(ctx.positionals[0] as string);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new UsageError(`${file}: ${doc.errors[0]?.message.split('\n')[0]}`);
  const parsed = PolicyTestFileSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new UsageError(`${file}:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  const testFile = parsed.data;
  let cases;
  try {
    cases = parseCases(testFile);
  } catch (error) {
    throw new UsageError(`${file}:\n${(error as Error).message.replace(/^/gm, '  ')}`);
  }
  const config = ctx.values.config ? ctx.config() : undefined;
  const folder = testFile.policies ? path.resolve(path.dirname(file), testFile.policies) : config?.policies;
  if (!folder) throw new UsageError('say which policies to test: `policies:` in the test file, or --config with a policies: folder');
  const set = loadPolicies(ctx as never, folder);
  if (!set) return ExitCode.Failed;
  const settings = {
    timeZone: testFile.timeZone ?? config?.policySettings.timeZone ?? 'UTC',
    destructiveTools: testFile.destructiveTools ?? config?.policySettings.destructiveTools ?? 'four-eyes',
    classification: (server: string, tool: string) =>
      testFile.tools[`${server}__${tool}`]?.classification ?? config?.servers[server]?.tools[tool]?.classification,
  };
  const authorizer = new CedarAuthorizer(set, settings);
  const results = cases.map((c, i) => runCase(authorizer, c, testFile.tools, i));
  const failed = results.filter((r) => !r.ok);
  const width = Math.min(60, Math.max(...results.map((r) => r.name.length)));
  const lines = results.map((r) => {
    const got = `${r.got.effect}${r.got.effect === 'require_approval' ? ` (${r.got.level})` : ''}${r.got.effect !== 'allow' ? ` ${r.got.reason}` : ''}${r.got.policy ? ` [${r.got.policy}]` : ''}`;
    return `${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.ok ? got : `${r.problems.join('; ')} — got ${got}`}`;
  });
  lines.push('', `${results.length - failed.length} passed, ${failed.length} failed (${set.policies.length} policies from ${folder})`);
  ctx.print({ ok: failed.length === 0, folder, passed: results.length - failed.length, failed: failed.length, results }, lines.join('\n'));
  return failed.length === 0 ? ExitCode.Ok : ExitCode.Failed;
});

export const policyCheckCommand = defineCommand(COMMAND_SPECS.policyCheck, async (ctx) => {
  const folder = ctx.positionals[0] ? path.resolve(ctx.positionals[0]) : ctx.values.config ? ctx.config().policies : undefined;
  if (!folder) throw new UsageError('give a policy folder, or --config with a policies: folder');
  const set = loadPolicies(ctx as never, folder);
  if (!set) return ExitCode.Failed;
  ctx.print(
    { ok: true, folder, policies: set.policies.length, files: set.files, digest: set.digest },
    `${set.policies.length} policies in ${set.files.length} files from ${folder}: valid`,
  );
  return ExitCode.Ok;
});
