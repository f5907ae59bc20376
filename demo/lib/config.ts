import path from 'node:path';
import type { DemoContext } from './context.ts';

/** Tools of server-memory that alice's rule allows: everything but the three delete tools. */
export const MEMORY_TOOLS_ALLOWED = [
  'memory__create_entities',
  'memory__create_relations',
  'memory__add_observations',
  'memory__read_graph',
  'memory__search_nodes',
  'memory__open_nodes',
] as const;

function q(value: string): string {
  return JSON.stringify(value);
}

/**
 * The demo's gatehouse.yaml: two real MCP servers from npm and a default-deny access list in
 * which only group eng (alice) appears. Paths are absolute because server-memory resolves a
 * relative MEMORY_FILE_PATH against its own install folder.
 */
export function demoConfigYaml(ctx: Pick<DemoContext, 'paths' | 'port' | 'users'>): string {
  const { paths, port, users } = ctx;
  const pkg = (name: string) => path.join(paths.root, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
  const group = users.alice.groups[0] as string;
  return `# Written by \`make demo\` (demo/lib/config.ts) on every run. Reference: docs/configuration.md.
listen: { host: 127.0.0.1, port: ${port} }
# Relative paths resolve against this file's folder.
dataDir: ./data

servers:
  # @modelcontextprotocol/server-filesystem, confined to .demo/files
  files:
    command: ${q(process.execPath)}
    args: [${q(pkg('server-filesystem'))}, ${q(paths.filesDir)}]
  # @modelcontextprotocol/server-memory: a knowledge graph kept in .demo/memory.jsonl
  memory:
    command: ${q(process.execPath)}
    args: [${q(pkg('server-memory'))}]
    env: { MEMORY_FILE_PATH: ${q(paths.memoryFile)} }

# Default deny: only what a rule allows. Group ${group} (alice) may use the filesystem, and the
# memory graph without its delete tools. Nobody else may use anything.
access:
  - allow: { groups: [${group}], servers: [files] }
  - allow:
      groups: [${group}]
      servers: [memory]
      tools: [${MEMORY_TOOLS_ALLOWED.join(', ')}]
`;
}
