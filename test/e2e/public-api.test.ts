// The package's public API, imported by its name as a program would: by self-reference from
// inside the package (package.json `name` + `exports`), and from a separate project that has it
// installed, at run time (node) and at type-check time (tsc). Needs the build (`make test` builds).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT, tempDir } from '../helpers/e2e.js';

const EXPORTED = [
  'AuditUnavailableError',
  'AuthenticationError',
  'ConfigError',
  'ConfigSchema',
  'DEFAULTS',
  'EgressRefusedError',
  'GatehouseError',
  'InvalidArgumentsError',
  'InvalidParamsError',
  'InvalidPathError',
  'MethodNotFoundError',
  'PolicyDeniedError',
  'RateLimitedError',
  'RefusedError',
  'RpcCode',
  'UpstreamError',
  'UsageError',
  'defaultConfig',
  'emptyCatalog',
  'formatIssuePath',
  'isGatehouseError',
  'loadConfigFile',
  'parseConfigText',
  'validateConfig',
];

/** Runs an ES module in `cwd` with node and returns what it printed as JSON. */
function run(cwd: string, source: string): unknown {
  const out = execFileSync(NODE, ['--input-type=module', '-e', source], { cwd, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as unknown;
}

const PROBE = `
import * as g from 'mcp-gatehouse';
const refused = (() => {
  try { g.validateConfig({ servers: { x: { command: 42 } } }, 'probe.yaml', process.cwd()); return undefined; }
  catch (error) { return { gatehouse: g.isGatehouseError(error), config: error instanceof g.ConfigError, code: error.code, message: error.message }; }
})();
const config = g.defaultConfig();
console.log(JSON.stringify({
  keys: Object.keys(g).sort(),
  refused,
  defaults: { servers: Object.keys(config.servers ?? {}), catalog: g.emptyCatalog() },
  denied: new g.PolicyDeniedError('policy.denied', 'no').code,
}));
`;

describe('public API (mcp-gatehouse)', () => {
  it('package.json exports the built entry point, and it exists', () => {
    expect(existsSync(path.join(ROOT, 'dist/index.js'))).toBe(true);
    expect(existsSync(path.join(ROOT, 'dist/index.d.ts'))).toBe(true);
  });

  it('imports by name from inside the package (self-reference): exactly the documented names, working', () => {
    const result = run(ROOT, PROBE) as Record<string, unknown>;
    expect(result.keys).toEqual(EXPORTED);
    // A bad config is a typed ConfigError with its stable code and the path of what is wrong.
    expect(result.refused).toMatchObject({ gatehouse: true, config: true, code: 'config.invalid' });
    expect((result.refused as { message: string }).message).toContain('servers.x');
    expect(result.defaults).toEqual({ servers: [], catalog: { tools: [], resources: [], resourceTemplates: [], prompts: [] } });
    expect(result.denied).toBe('policy.denied');
  });

  it('a separate project with the package installed imports it and type-checks a connector against it', () => {
    const project = tempDir('gh-public-api-');
    mkdirSync(path.join(project, 'node_modules'));
    symlinkSync(ROOT, path.join(project, 'node_modules/mcp-gatehouse'), 'dir');
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    const runtime = run(project, PROBE) as Record<string, unknown>;
    expect(runtime.keys).toEqual(EXPORTED);

    // Internal modules are not part of the API: the exports map hides them.
    expect(() => run(project, `import 'mcp-gatehouse/dist/gateway.js'; console.log('null');`)).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);

    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2024', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['connector.ts'],
      }),
    );
    writeFileSync(
      path.join(project, 'connector.ts'),
      `import { emptyCatalog, InvalidParamsError, type CallContext, type Connector, type ConnectorStatus, type LoadedConfig } from 'mcp-gatehouse';
export class EchoConnector implements Connector {
  readonly kind = 'echo';
  constructor(readonly name: string) {}
  async catalog() { return emptyCatalog(); }
  instructions() { return undefined; }
  async start() {}
  async release() {}
  async stop() {}
  status(): ConnectorStatus { return { name: this.name, kind: this.kind, ready: true, detail: {} }; }
  async execute(ctx: CallContext) {
    if (ctx.op.name !== 'echo') throw new InvalidParamsError('echo.unknown_tool', 'unknown tool');
    return { content: [{ type: 'text' as const, text: JSON.stringify(ctx.op.args ?? {}) }] };
  }
}
export const servers = (config: LoadedConfig): string[] => Object.keys(config.servers);
`,
    );
    const tsc = () =>
      spawnSync(NODE, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    const checked = tsc();
    expect(checked.stdout).toBe('');
    expect(checked.status).toBe(0);

    // And the checker does check: a connector missing a method is refused.
    writeFileSync(
      path.join(project, 'connector.ts'),
      `import type { Connector } from 'mcp-gatehouse';\nexport const broken: Connector = { name: 'x', kind: 'y' };\n`,
    );
    const refused = tsc();
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toMatch(/connector\.ts.*error TS27\d\d:.*missing the following properties/s);
  });
});
