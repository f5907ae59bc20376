import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors/index.js';
import { ConfigSchema, isConnectorServer, isHttpApiServer, isPostgresServer, isStdioServer, type Config, type ConfigInput } from './schema.js';
import { referencedVariables } from './interpolate.js';

/** A validated configuration with every path made absolute and `publicUrl` settled. */
export type LoadedConfig = Omit<Config, 'publicUrl'> & {
  /** Absolute path of the file it came from, if any. */
  configPath: string | undefined;
  /** Directory relative paths (dataDir, cwd, args that name files) are resolved against. */
  baseDir: string;
  publicUrl: string;
  /** `true` when publicUrl was derived from `listen` rather than configured. */
  publicUrlDerived: boolean;
};

export interface LoadOptions {
  /** Overrides applied after the file is read (CLI flags). */
  dataDir?: string | undefined;
  port?: number | undefined;
  /** Checked for `${VAR}` references; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Whether every `${VAR}` must be set. Off for commands that only read where the gateway is
   * (status, the stdio bridge): they must not need the upstreams' secrets in their environment.
   */
  checkVariables?: boolean;
}

export function formatIssuePath(pathParts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of pathParts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

type Issue = z.core.$ZodIssue;

/**
 * Flattens zod issues into `key.path: message`. A union failure reports the branch that got
 * furthest (a stdio server with a bad `command` is about `command`, not "needs a url"); a bad
 * record key reports why the key is bad.
 */
function flatten(issue: Issue, prefix: readonly PropertyKey[]): { path: string; message: string }[] {
  const here = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const sizes = issue.errors.map((branch) => branch.length);
    const best = Math.min(...sizes);
    if (sizes.filter((n) => n === best).length === 1) return (issue.errors[sizes.indexOf(best)] as Issue[]).flatMap((i) => flatten(i, here));
    // A key no branch knows is most likely a typo (`comand`): name it rather than the union.
    const unknownIn = (branch: Issue[]) => branch.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : []));
    const unknown = unknownIn(issue.errors[0] as Issue[]).filter((key) => issue.errors.every((branch) => unknownIn(branch as Issue[]).includes(key)));
    if (unknown.length > 0) {
      return unknown.map((key) => ({
        path: formatIssuePath([...here, key]),
        message:
          'unknown key (a server needs "command" (stdio), "url" (Streamable HTTP), "postgres" (built-in PostgreSQL connector) or "http" (built-in HTTP API connector))',
      }));
    }
    return [
      {
        path: formatIssuePath(here),
        message:
          'a server needs "command" (stdio), "url" (Streamable HTTP), "postgres" (built-in PostgreSQL connector) or "http" (built-in HTTP API connector)',
      },
    ];
  }
  if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    return issue.issues.map((inner) => ({ path: formatIssuePath(here), message: `invalid name: ${inner.message}` }));
  }
  return [{ path: formatIssuePath(here), message: issue.message }];
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.flatMap((issue) => flatten(issue as Issue, []));
}

/**
 * Variables no configured value may reference. The vault master key stays with the vault: an
 * upstream, webhook or client that needs a credential gets it from the vault (vault:NAME).
 */
const RESERVED_VARIABLES: ReadonlySet<string> = new Set(['GATEHOUSE_MASTER_KEY']);

function variableProblem(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  if (RESERVED_VARIABLES.has(variable)) {
    return `references \${${variable}}, the vault master key, which is never passed to upstreams, webhooks or clients; store the credential in the vault and reference it as vault:NAME`;
  }
  if (env[variable] === undefined) return `references \${${variable}}, which is not set in the gateway's environment`;
  return undefined;
}

function failure(source: string, issues: { path: string; message: string }[]): ConfigError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new ConfigError(`invalid configuration in ${source}:\n${lines}`, issues);
}

export function parseConfigText(text: string, source = 'gatehouse.yaml'): ConfigInput {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw failure(
      source,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return (doc.toJS() ?? {}) as ConfigInput;
}

export function validateConfig(input: unknown, source: string, baseDir: string, options: LoadOptions = {}): LoadedConfig {
  const parsed = ConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw failure(source, issuesOf(parsed.error));
  const config = parsed.data;
  if (options.port !== undefined) config.listen.port = options.port;
  // One place to read it from: `ratelimit.redis` is another spelling of `rateLimits.redis`.
  if (config.ratelimit?.redis) config.rateLimits.redis = config.ratelimit.redis;
  delete config.ratelimit;
  const env = options.env ?? process.env;

  const missing: { path: string; message: string }[] = [];
  const reserved: { path: string; message: string }[] = [];
  for (const [name, server] of Object.entries(config.servers)) {
    // The HTTP connector takes no ${VAR} values: its credentials come from the vault.
    // Connector credentials come from the vault too (credentials.<name>, as http.auth).
    if (isHttpApiServer(server) || isConnectorServer(server)) continue;
    const values: [string, string][] = isStdioServer(server)
      ? [
          ['command', server.command],
          ...server.args.map((a, i) => [`args[${i}]`, a] as [string, string]),
          ...Object.entries(server.env).map(([k, v]) => [`env.${k}`, v] as [string, string]),
          ...(server.cwd ? [['cwd', server.cwd] as [string, string]] : []),
        ]
      : isPostgresServer(server)
        ? [
            ['postgres.host', server.postgres.host],
            ['postgres.database', server.postgres.database],
            ['postgres.admin.user', server.postgres.admin.user],
            ['postgres.admin.password', server.postgres.admin.password],
          ]
        : [['url', server.url], ...Object.entries(server.headers).map(([k, v]) => [`headers.${k}`, v] as [string, string])];
    for (const [key, value] of values) {
      for (const variable of referencedVariables(value)) {
        const problem = variableProblem(env, variable);
        if (problem) (RESERVED_VARIABLES.has(variable) ? reserved : missing).push({ path: `servers.${name}.${key}`, message: problem });
      }
    }
  }
  const secretRefs: [string, string | undefined][] = [
    ['identity.upstream.clientSecret', config.identity.upstream?.clientSecret],
    ['storage.postgres.url', config.storage.postgres?.url],
    ...config.oauth.clients.map((c, i) => [`oauth.clients[${i}].clientSecret`, c.clientSecret] as [string, string | undefined]),
  ];
  for (const [where, value] of secretRefs) {
    for (const variable of value === undefined ? [] : referencedVariables(value)) {
      const problem = variableProblem(env, variable);
      if (problem) (RESERVED_VARIABLES.has(variable) ? reserved : missing).push({ path: where, message: problem });
    }
  }
  config.approvals.webhooks.forEach((hook, i) => {
    for (const [key, value] of Object.entries(hook.headers)) {
      for (const variable of referencedVariables(value)) {
        const problem = variableProblem(env, variable);
        if (problem) (RESERVED_VARIABLES.has(variable) ? reserved : missing).push({ path: `approvals.webhooks[${i}].headers.${key}`, message: problem });
      }
    }
  });
  // The master key is refused even when unset variables are tolerated: no config may route it anywhere.
  if (reserved.length > 0) throw failure(source, reserved);
  if (missing.length > 0 && options.checkVariables !== false) throw failure(source, missing);

  // A --data-dir flag is relative to where the command runs; the config key to the config file.
  const dataDir = options.dataDir !== undefined ? path.resolve(options.dataDir) : path.resolve(baseDir, config.dataDir);
  let publicUrl = config.publicUrl;
  const derived = publicUrl === undefined;
  if (publicUrl === undefined) {
    const host = config.listen.host;
    if (host === '0.0.0.0' || host === '::') {
      throw failure(source, [{ path: 'publicUrl', message: `required when listening on ${host}: the token audience must name one URL` }]);
    }
    const hostPart = host.includes(':') ? `[${host}]` : host;
    publicUrl = `http://${hostPart}:${config.listen.port}`;
  }
  publicUrl = publicUrl.replace(/(?<!\/)\/+$/, '');
  const policies = config.policies === undefined ? undefined : path.resolve(baseDir, config.policies);
  return { ...config, policies, configPath: undefined, baseDir, dataDir, publicUrl, publicUrlDerived: derived };
}

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadedConfig {
  const configPath = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${configPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, [
      { path: '(file)', message: 'cannot be read' },
    ]);
  }
  const loaded = validateConfig(parseConfigText(text, configPath), configPath, path.dirname(configPath), options);
  return { ...loaded, configPath };
}

/** A configuration for commands that only need the data dir (no file given). */
export function defaultConfig(options: LoadOptions = {}): LoadedConfig {
  return validateConfig({}, '(defaults)', process.cwd(), options);
}
