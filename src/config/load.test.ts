import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { interpolate, MissingVariableError } from './interpolate.js';
import { parseConfigText, validateConfig } from './load.js';
import { configJsonSchema } from './json-schema.js';

const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => validateConfig(parseConfigText(yaml), 'test.yaml', '/srv/gh', { env });

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('accepts the foundation example exactly as written and fills defaults', () => {
    const config = load(`
servers:
  echo: { command: node, args: [echo-server.mjs] }
access:
  - allow: { users: [alice], servers: [echo] }
`);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(config.publicUrl).toBe('http://127.0.0.1:8787');
    expect(config.dataDir).toBe('/srv/gh/.gatehouse');
    expect(config.servers.echo).toMatchObject({ command: 'node', args: ['echo-server.mjs'], env: {}, isolation: 'shared', forwardRoots: false });
    expect(config.access[0]?.allow).toEqual({ users: ['alice'], groups: [], servers: ['echo'] });
    expect(config.limits.maxRequestBody).toBe(1024 * 1024);
    expect(config.tokens).toEqual({ defaultTtl: 300_000, maxTtl: 900_000 });
  });

  it('audit.sync defaults to fsync, accepts os, and refuses anything else with its path', () => {
    const base = 'servers:\n  echo: { command: node }\naccess:\n  - allow: { users: [alice], servers: [echo] }\n';
    expect(load(base).audit.sync).toBe('fsync');
    expect(load(`${base}audit: { sync: os }\n`).audit.sync).toBe('os');
    const issues = issuesOf(() => load(`${base}audit: { sync: none }\n`));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('audit.sync');
    expect(issues[0]?.message).toMatch(/fsync.*os/);
  });

  it('names the key path of every problem', () => {
    const issues = issuesOf(() =>
      load(`
listen: { port: "eighty" }
servers:
  echo: { command: 42 }
  web: { url: "ftp://x" }
  both__bad: { command: x }
access:
  - allow: { users: [alice], servers: [nope] }
tokens: { maxTtl: 1h }
typo_key: true
`),
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['listen.port']).toMatch(/expected number/);
    expect(byPath['servers.echo.command']).toMatch(/expected string/);
    expect(byPath['servers.web.url']).toMatch(/Invalid URL/);
    expect(byPath['servers.both__bad']).toMatch(/must not contain "__"/);
    expect(byPath['tokens.maxTtl']).toBe('maxTtl may not exceed 15m');
    expect(byPath['(root)']).toMatch(/typo_key/);
  });

  it('names a misspelt server key instead of only saying a server needs command or url', () => {
    const issues = issuesOf(() => load(`servers:\n  echo: { comand: node, args: [x] }\n`));
    expect(issues).toEqual([
      {
        path: 'servers.echo.comand',
        message:
          'unknown key (a server needs "command" (stdio), "url" (Streamable HTTP), "postgres" (built-in PostgreSQL connector) or "http" (built-in HTTP API connector))',
      },
    ]);
    expect(issuesOf(() => load(`servers:\n  echo: {}\n`))).toEqual([
      {
        path: 'servers.echo',
        message:
          'a server needs "command" (stdio), "url" (Streamable HTTP), "postgres" (built-in PostgreSQL connector) or "http" (built-in HTTP API connector)',
      },
    ]);
  });

  it('rejects an access rule naming an unknown server, with its path', () => {
    const issues = issuesOf(() => load(`servers: { echo: { command: node } }\naccess: [ { allow: { users: [a], servers: [echo, ghost] } } ]`));
    expect(issues).toEqual([{ path: 'access[0].allow.servers[1]', message: 'unknown server "ghost"' }]);
  });

  it('refuses ${GATEHOUSE_MASTER_KEY} in any configured value, set or not, even when unset variables are tolerated', () => {
    const message =
      'references ${GATEHOUSE_MASTER_KEY}, the vault master key, which is never passed to upstreams, webhooks or clients; store the credential in the vault and reference it as vault:NAME';
    const yaml = [
      'servers:',
      '  a: { command: node, args: ["--key=${GATEHOUSE_MASTER_KEY}"], env: { K: "${GATEHOUSE_MASTER_KEY}", OK: "${HOME_DIR}" } }',
      '  b: { url: "https://api.example/mcp", headers: { X-Key: "${GATEHOUSE_MASTER_KEY}" } }',
      'approvals: { webhooks: [ { url: "https://hooks.example/x", headers: { Authorization: "${GATEHOUSE_MASTER_KEY}" } } ] }',
    ].join('\n');
    const expected = [
      { path: 'servers.a.args[0]', message },
      { path: 'servers.a.env.K', message },
      { path: 'servers.b.headers.X-Key', message },
      { path: 'approvals.webhooks[0].headers.Authorization', message },
    ];
    expect(issuesOf(() => load(yaml, { GATEHOUSE_MASTER_KEY: 'x', HOME_DIR: '/h' }))).toEqual(expected);
    expect(issuesOf(() => validateConfig(parseConfigText(yaml), 'test.yaml', '/srv/gh', { env: {}, checkVariables: false }))).toEqual(expected);
    // A literal $${...} is not a reference.
    expect(() => load('servers: { a: { command: node, args: ["$${GATEHOUSE_MASTER_KEY}"] } }')).not.toThrow();
  });

  it('refuses a ${VAR} reference to an unset variable, naming the key', () => {
    const issues = issuesOf(() => load(`servers: { api: { url: "https://api.example/mcp", headers: { Authorization: "Bearer \${API_TOKEN}" } } }`));
    expect(issues).toEqual([{ path: 'servers.api.headers.Authorization', message: "references ${API_TOKEN}, which is not set in the gateway's environment" }]);
    expect(() =>
      load(`servers: { api: { url: "https://api.example/mcp", headers: { Authorization: "Bearer \${API_TOKEN}" } } }`, { API_TOKEN: 't' }),
    ).not.toThrow();
  });

  it('resolves a --data-dir override against the working directory, the config key against the file', () => {
    const fromFlag = validateConfig({}, 't', '/srv/gh', { env: {}, dataDir: 'rel/data' });
    expect(fromFlag.dataDir).toBe(path.resolve(process.cwd(), 'rel/data'));
    expect(validateConfig({ dataDir: 'rel/data' }, 't', '/srv/gh', { env: {} }).dataDir).toBe('/srv/gh/rel/data');
  });

  it('refuses a prefix containing "__" and a rule with no servers', () => {
    const issues = issuesOf(() => load(`servers: { echo: { command: node, prefix: "a__b" } }\naccess: [ { allow: { users: [a], servers: [] } } ]`));
    expect(issues).toEqual([
      { path: 'servers.echo.prefix', message: 'prefixes must not contain "__" (it separates prefix and name)' },
      { path: 'access[0].allow.servers', message: 'a rule needs at least one server (or "*")' },
    ]);
    const rule = issuesOf(() => load(`servers: { echo: { command: node } }\naccess: [ { allow: { users: [a], servers: [] } } ]`));
    expect(rule).toEqual([{ path: 'access[0].allow.servers', message: 'a rule needs at least one server (or "*")' }]);
  });

  it('can skip the ${VAR} check for commands that only need the gateway address', () => {
    const yaml = `servers: { api: { url: "https://api.example/mcp", headers: { Authorization: "Bearer \${API_TOKEN}" } } }`;
    expect(validateConfig(parseConfigText(yaml), 't', '/srv', { env: {}, checkVariables: false }).publicUrl).toBe('http://127.0.0.1:8787');
  });

  it('reports YAML syntax errors with a line', () => {
    const issues = issuesOf(() => parseConfigText('servers:\n  echo: { command: node\n'));
    expect(issues[0]?.path).toMatch(/^line \d+$/);
  });

  it('requires publicUrl when listening on all interfaces', () => {
    const issues = issuesOf(() => load(`listen: { host: 0.0.0.0 }`));
    expect(issues).toEqual([{ path: 'publicUrl', message: expect.stringMatching(/required when listening on 0.0.0.0/) }]);
  });

  it('keeps ${VAR} unresolved in the loaded config (resolved only at use)', () => {
    const config = load(`servers: { s: { command: node, env: { KEY: "\${SECRET}" } } }`, { SECRET: 'hunter2-value' });
    expect(JSON.stringify(config)).not.toContain('hunter2-value');
  });
});

describe('interpolate', () => {
  it('resolves, escapes and reports secrets', () => {
    const seen: string[] = [];
    expect(interpolate('a ${X} $${Y} b', { env: { X: 'xv' }, onSecret: (s) => seen.push(s) })).toBe('a xv ${Y} b');
    expect(seen).toEqual(['xv']);
  });
  it('throws for a missing variable', () => {
    expect(() => interpolate('${NOPE}', { env: {} })).toThrow(MissingVariableError);
  });
});

describe('JSON Schema', () => {
  it('is generated from the zod schema and describes the input side', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['listen', 'publicUrl', 'servers', 'access', 'dataDir']));
    expect(schema.additionalProperties).toBe(false);
  });
});
