import { stringify } from 'yaml';
import type { ConfigInput } from './schema.js';
import { validateConfig } from './load.js';

/** A Claude Desktop / Cursor / VS Code style `mcpServers` entry. */
interface McpServersEntry {
  type?: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  disabled?: boolean;
}

export interface ImportResult {
  yaml: string;
  /** Environment variables the operator must now provide (secrets moved out of the file). */
  variables: string[];
  warnings: string[];
}

const SECRETISH_HEADER = /authorization|token|key|secret|cookie/i;
/** `scheme://user:password@host…`, split around the password. */
const URL_PASSWORD = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\s:@]+:)([^/\s@]+)(@.*)$/s;
/** Flags whose value is a credential: `--api-key=…`, `--token …`, `--db-password …`. */
const SECRET_FLAG = /^--?(?=[A-Za-z0-9_-]*$)[A-Za-z0-9_-]*?(token|secret|passw(?:or)?d|api[-_]?key|access[-_]?key|credential)/i;

/**
 * Copies `args`, moving credentials out: the password of a connection string and the value of
 * a credential flag become `${VAR}` references (resolved from the gateway's environment at
 * start), so the generated file holds no secret.
 */
function importArgs(server: string, raw: readonly string[], variables: string[], warnings: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] as string;
    const url = URL_PASSWORD.exec(arg);
    if (url) {
      const variable = variableName(server, `ARG${i}_PASSWORD`);
      variables.push(variable);
      out.push(`${url[1]}\${${variable}}${url[3]}`);
      warnings.push(
        `server "${server}" had a password inside a connection string in its args (${url[1]}***${url[3]}); it now comes from \${${variable}} — set it in the gateway's environment (percent-encoded, as in the URL)`,
      );
      continue;
    }
    const assignment = /^(--?[^=\s]+)=(.+)$/s.exec(arg);
    if (assignment && SECRET_FLAG.test(assignment[1] as string)) {
      const variable = variableName(server, (assignment[1] as string).replace(/^-+/, ''));
      variables.push(variable);
      out.push(`${assignment[1]}=\${${variable}}`);
      warnings.push(`server "${server}" had a credential in its args (${assignment[1]}=***); it now comes from \${${variable}}`);
      continue;
    }
    const next = raw[i + 1];
    if (SECRET_FLAG.test(arg) && next !== undefined && !next.startsWith('-')) {
      const variable = variableName(server, arg.replace(/^-+/, ''));
      variables.push(variable);
      out.push(arg, `\${${variable}}`);
      warnings.push(`server "${server}" had a credential in its args (${arg} ***); it now comes from \${${variable}}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function serverName(raw: string, taken: Set<string>): string {
  // Valid server names only: no "_" at either end and no "__" (server__tool must split back).
  let name = raw
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/_{2,}/g, '_')
    .replace(/^[-_]+/, '');
  while (name.endsWith('_')) name = name.slice(0, -1);
  name ||= 'server';
  const base = name;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

function variableName(server: string, key: string): string {
  return `${server}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/**
 * Converts an `mcpServers` JSON document into gatehouse.yaml. Literal env values and
 * credential-looking headers are not copied: they become `${VAR}` references the operator
 * sets in the gateway's environment (or, later, moves into the vault), so the generated file
 * holds no secret.
 */
export function importMcpServers(json: string): ImportResult {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
  const servers = (doc as { mcpServers?: unknown; servers?: unknown })?.mcpServers ?? (doc as { servers?: unknown })?.servers;
  if (!servers || typeof servers !== 'object' || Array.isArray(servers)) throw new Error('no "mcpServers" object found');
  const out: NonNullable<ConfigInput['servers']> = {};
  const variables: string[] = [];
  const warnings: string[] = [];
  const taken = new Set<string>();
  for (const [rawName, rawEntry] of Object.entries(servers as Record<string, McpServersEntry>)) {
    const name = serverName(rawName, taken);
    if (name !== rawName) warnings.push(`server "${rawName}" renamed to "${name}"`);
    if (rawEntry.disabled) {
      warnings.push(`server "${rawName}" is disabled in the source and was skipped`);
      continue;
    }
    if (rawEntry.command) {
      const env: Record<string, string> = {};
      for (const key of Object.keys(rawEntry.env ?? {})) {
        const variable = variableName(name, key);
        env[key] = `\${${variable}}`;
        variables.push(variable);
      }
      const args = importArgs(name, rawEntry.args ?? [], variables, warnings);
      out[name] = {
        command: rawEntry.command,
        ...(args.length ? { args } : {}),
        ...(Object.keys(env).length ? { env } : {}),
        ...(rawEntry.cwd ? { cwd: rawEntry.cwd } : {}),
      };
    } else if (rawEntry.url) {
      if (rawEntry.type === 'sse')
        warnings.push(`server "${name}" uses the legacy SSE transport; Gatehouse speaks Streamable HTTP to upstreams — check that ${rawEntry.url} supports it`);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(rawEntry.headers ?? {})) {
        if (SECRETISH_HEADER.test(key)) {
          const variable = variableName(name, key);
          headers[key] = `\${${variable}}`;
          variables.push(variable);
        } else headers[key] = value;
      }
      out[name] = { url: rawEntry.url, ...(Object.keys(headers).length ? { headers } : {}) };
    } else {
      warnings.push(`server "${rawName}" has neither "command" nor "url" and was skipped`);
    }
  }
  const config: ConfigInput = { servers: out, access: [] };
  // Validate what we produce, as the gateway will.
  validateConfig(config, '(imported)', process.cwd(), { env: Object.fromEntries(variables.map((v) => [v, 'x'])) });
  const header = [
    '# gatehouse.yaml generated by `gatehouse import-mcp-config`.',
    "# Secrets were not copied: set these variables in the gateway's environment:",
    ...(variables.length ? variables.map((v) => `#   ${v}`) : ['#   (none)']),
    '# Access is denied to everyone until you add rules, e.g.:',
    `#   access:\n#     - allow: { users: [alice], servers: [${Object.keys(out).join(', ')}] }`,
    '',
  ].join('\n');
  return { yaml: header + stringify(config), variables, warnings };
}
