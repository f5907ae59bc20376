import path from 'node:path';
import type { DemoContext, DemoUser } from './context.ts';

/** The demo's people and agents. The passwords are demo-only (printed at the end, on loopback). */
export const DEMO_USERS: DemoContext['users'] = {
  alice: { sub: 'alice', groups: ['eng'], password: 'alice demo password' },
  carol: { sub: 'carol', groups: ['leads'], password: 'carol demo password' },
  reportBot: { sub: 'report-bot', groups: ['reporting'] },
  bob: { sub: 'bob', groups: ['eng'] },
};

/** Tools of server-memory that eng's policy allows: everything but the three delete tools. */
export const MEMORY_TOOLS_ALLOWED = [
  'memory__create_entities',
  'memory__create_relations',
  'memory__add_observations',
  'memory__read_graph',
  'memory__search_nodes',
  'memory__open_nodes',
] as const;

/** Tools of server-filesystem that eng's policy names (demo/policies/10-eng.cedar). */
export const FILES_TOOLS_ALLOWED = [
  'files__list_directory',
  'files__read_text_file',
  'files__get_file_info',
  'files__create_directory',
  'files__write_file',
  'files__edit_file',
] as const;

/** The tool with a tight per-user rate limit, to show the refusal. */
export const RATE_LIMITED_TOOL = { name: 'memory__read_graph', burst: 3, window: 'm' } as const;

function q(value: string): string {
  return JSON.stringify(value);
}

function who(user: DemoUser): string {
  return `${user.sub} (${user.groups.join(', ')})`;
}

/**
 * The demo's gatehouse.yaml: two real MCP servers from npm, Cedar policies, four-eyes approvals
 * and a rate limit. Paths are absolute because server-memory resolves a relative
 * MEMORY_FILE_PATH against its own install folder.
 */
export function demoConfigYaml(ctx: Pick<DemoContext, 'paths' | 'port' | 'users'>): string {
  const { paths, port, users } = ctx;
  const pkg = (name: string) => path.join(paths.root, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
  return `# Written by \`make demo\` (demo/lib/config.ts) on every run. Reference: docs/configuration.md.
listen: { host: 127.0.0.1, port: ${port} }
# Relative paths resolve against this file's folder.
dataDir: ./data

servers:
  # @modelcontextprotocol/server-filesystem, confined to .demo/files
  files:
    command: ${q(process.execPath)}
    args: [${q(pkg('server-filesystem'))}, ${q(paths.filesDir)}]
    # Sandboxed (bubblewrap): it sees the system read-only and, of this machine's files, only its folder.
    sandbox: { writable: [${q(paths.filesDir)}] }
    # Config overrides what a server says about its tools: an upstream cannot declare itself harmless.
    tools:
      write_file: { annotations: { destructiveHint: true } }
      edit_file: { annotations: { destructiveHint: true } }
  # @modelcontextprotocol/server-memory: a knowledge graph kept in .demo/memory/memory.jsonl
  memory:
    command: ${q(process.execPath)}
    args: [${q(pkg('server-memory'))}]
    env: { MEMORY_FILE_PATH: ${q(paths.memoryFile)} }
    sandbox: { writable: [${q(path.dirname(paths.memoryFile))}] }
    # Read-only by Gatehouse's word: an upstream's own readOnlyHint is a claim that never loosens a policy.
    tools:
      read_graph: { annotations: { readOnlyHint: true } }
      search_nodes: { annotations: { readOnlyHint: true } }
      open_nodes: { annotations: { readOnlyHint: true } }

# Cedar policies decide every call (default deny); the gateway reloads them when a file changes.
# ${who(users.alice)}: files (destructive tools with four-eyes) and memory without deletes;
# ${who(users.reportBot)}: read-only memory tools; private/ is off limits to everyone.
policies: ./policies

# Four-eyes: a second person, with the approver role for the server, approves each destructive call.
approvals:
  approvers:
    files: { users: [${users.carol.sub}] }
  wait: 1s          # the demo's; an agent's call waits up to this long (default 30s), then gets "pending"

# Per-user and per-tool limits (defaults: 50/s per user, 20/s per tool); one tight one to show.
rateLimits:
  tools:
    ${RATE_LIMITED_TOOL.name}: { burst: ${RATE_LIMITED_TOOL.burst}/${RATE_LIMITED_TOOL.window} }

# The built-in OAuth 2.1 authorization server is on by default: local accounts
# (gatehouse users add), dynamic client registration, Client ID Metadata Documents, PKCE S256.
`;
}
