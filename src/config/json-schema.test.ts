import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { configJsonSchema } from './json-schema.js';
import { referencedVariables } from './interpolate.js';
import { validateConfig } from './load.js';

const SCHEMA_FILE = new URL('../../schema/gatehouse.schema.json', import.meta.url);
const CONFIG_DOC = new URL('../../docs/configuration.md', import.meta.url);

/** The example from the foundation issue, exactly as written there. */
const ISSUE_EXAMPLE = `
servers:
  echo: { command: node, args: [echo-server.mjs] }
access:
  - allow: { users: [alice], servers: [echo] }
`;

function compileSchema() {
  // strict: the schema must not use keywords or formats an editor's validator would not know.
  // Union types (`["string", "number"]` for durations and sizes) are valid JSON Schema; ajv's
  // strict mode only asks for them to be allowed explicitly.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
}

/** Validates with the gateway's own loader; returns the problems (empty when valid). */
function gatewayIssues(input: unknown, env: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    validateConfig(input, 'test.yaml', '/srv/gh', { env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

/** Every `${VAR}` a YAML text references, set to a dummy value, so the loader accepts it. */
function envFor(yamlText: string): NodeJS.ProcessEnv {
  return Object.fromEntries(referencedVariables(yamlText).map((name) => [name, 'x']));
}

/** The YAML code blocks in docs/configuration.md that are complete files (they carry the schema modeline). */
function documentedExamples(): string[] {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  return [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .filter((block) => block.includes('# yaml-language-server: $schema=') && block.includes('servers:'));
}

type JsonSchemaNode = {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
  default?: unknown;
};

const PLACEHOLDER: Record<string, string> = { servers: '<name>', tools: '<tool>' };

/**
 * Every leaf key of the schema as the reference documents it: `listen.port`,
 * `servers.<name>.command`, `access[].allow.users`, with its default.
 */
function leafKeys(node: JsonSchemaNode, path = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  if (node.anyOf) {
    for (const branch of node.anyOf) leafKeys(branch, path, out);
  } else if (node.properties) {
    for (const [key, child] of Object.entries(node.properties)) leafKeys(child, join(key), out);
  } else if (typeof node.additionalProperties === 'object' && (node.additionalProperties.properties || node.additionalProperties.anyOf)) {
    const last = path.split('.').pop() ?? '';
    leafKeys(node.additionalProperties, join(PLACEHOLDER[last] ?? '<key>'), out);
  } else if (node.items?.properties) {
    leafKeys(node.items, `${path}[]`, out);
  } else {
    out.set(path, node.default);
  }
  return out;
}

describe('schema/gatehouse.schema.json', () => {
  it('is exactly what `gatehouse config schema` generates (run `make schema` after changing src/config/schema.ts)', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    const generated = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
    expect(committed).toBe(generated);
  });

  it('compiles under ajv strict mode as draft 2020-12', () => {
    const schema = configJsonSchema() as { $schema?: string; additionalProperties?: unknown };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(() => compileSchema()).not.toThrow();
  });

  it("accepts the foundation issue's example, as the gateway does", () => {
    const validate = compileSchema();
    const input = parse(ISSUE_EXAMPLE) as unknown;
    expect(validate(input), JSON.stringify(validate.errors)).toBe(true);
    expect(gatewayIssues(input)).toEqual([]);
  });

  it('accepts the complete annotated example in docs/configuration.md, as the gateway does', () => {
    const examples = documentedExamples();
    expect(examples.length).toBeGreaterThanOrEqual(1);
    const validate = compileSchema();
    for (const text of examples) {
      const input = parse(text) as unknown;
      expect(validate(input), JSON.stringify(validate.errors)).toBe(true);
      expect(gatewayIssues(input, envFor(text))).toEqual([]);
    }
  });

  it('rejects what the gateway rejects: unknown keys, bad servers, bad enums, bad access rules', () => {
    const validate = compileSchema();
    const bad: Record<string, unknown> = {
      'a misspelled top-level key': { servers: {}, acess: [] },
      'a server with neither command nor url': { servers: { s: { args: ['x'] } } },
      'a server with both command and url': { servers: { s: { command: 'node', url: 'https://x.example/mcp' } } },
      'an unknown isolation mode': { servers: { s: { command: 'node', isolation: 'per-tenant' } } },
      'a server name with a dot': { servers: { 'my.server': { command: 'node' } } },
      'an access rule with an extra key': { servers: { s: { command: 'node' } }, access: [{ allow: { users: ['a'], servers: ['s'] }, deny: {} }] },
      'an access rule without allow': { servers: { s: { command: 'node' } }, access: [{ users: ['a'] }] },
      'a port out of range': { listen: { port: 70000 } },
      'a non-integer session cap': { limits: { maxSessionsPerUser: 1.5 } },
      'an unknown log level': { log: { level: 'verbose' } },
      'another separator': { naming: { separator: '::' } },
    };
    for (const [what, input] of Object.entries(bad)) {
      expect(validate(input), `schema should reject ${what}`).toBe(false);
      expect(gatewayIssues(input).length, `gateway should reject ${what}`).toBeGreaterThan(0);
    }
  });

  it('leaves to the gateway the checks JSON Schema cannot express (docs/configuration.md lists them)', () => {
    const gatewayOnly: Record<string, unknown> = {
      'a remote server with a non-http url': { servers: { s: { url: 'ftp://x.example/mcp' } } },
      'a server name containing "__"': { servers: { a__b: { command: 'node' } } },
      'an unparseable duration': { limits: { upstreamTimeout: 'soon' } },
      'an unparseable size': { limits: { maxRequestBody: '1 megabyte' } },
      'an access rule naming an unknown server': { servers: { s: { command: 'node' } }, access: [{ allow: { users: ['a'], servers: ['ghost'] } }] },
      'an access rule with neither users nor groups': { servers: { s: { command: 'node' } }, access: [{ allow: { servers: ['s'] } }] },
      'two servers with one prefix': { servers: { a: { command: 'node', prefix: 'x' }, b: { command: 'node', prefix: 'x' } } },
      'a maximum token lifetime above 15 minutes': { tokens: { maxTtl: '1h' } },
      'an unset ${VAR}': { servers: { s: { command: 'node', env: { KEY: '${GATEHOUSE_TEST_UNSET_VARIABLE}' } } } },
    };
    for (const [what, input] of Object.entries(gatewayOnly)) {
      expect(gatewayIssues(input).length, `gateway should reject ${what}`).toBeGreaterThan(0);
    }
  });

  it('describes defaults the gateway actually applies', () => {
    const validate = compileSchema();
    const defaults = leafKeys(configJsonSchema() as JsonSchemaNode);
    expect(defaults.get('listen.port')).toBe(8787);
    expect(defaults.get('limits.maxRequestBody')).toBe('1mb');
    expect(defaults.get('servers.<name>.isolation')).toBe('shared');
    // An empty file is valid for both: every top-level key has a default or is optional.
    expect(validate({})).toBe(true);
    expect(gatewayIssues({})).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
  const rowFor = (key: string) => rows.find((line) => line.startsWith(`| \`${key}\` |`));

  it('has a reference row for every key in the schema, with the default the code applies', () => {
    const missing: string[] = [];
    const wrongDefault: string[] = [];
    for (const [key, value] of leafKeys(configJsonSchema() as JsonSchemaNode)) {
      const row = rowFor(key);
      if (!row) {
        missing.push(key);
        continue;
      }
      if (value !== undefined && (typeof value !== 'object' || value === null) && !row.includes(`\`${String(value)}\``)) {
        wrongDefault.push(`${key} (default ${String(value)})`);
      }
    }
    expect(missing, 'keys without a row in docs/configuration.md').toEqual([]);
    expect(wrongDefault, 'rows that do not show the default from DEFAULTS').toEqual([]);
  });

  it('documents no key the schema does not have', () => {
    const schema = configJsonSchema() as JsonSchemaNode;
    const known = new Set(leafKeys(schema).keys());
    const topLevel = new Set(Object.keys(schema.properties ?? {}));
    const documented = rows
      .map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1])
      .filter((key): key is string => key !== undefined && topLevel.has(key.split(/[.[]/)[0] as string));
    expect(documented.length).toBeGreaterThan(30);
    expect(documented.filter((key) => !known.has(key))).toEqual([]);
  });
});
