import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/index.js';
import { findInlineSecrets } from './inline-secrets.js';

describe('findInlineSecrets', () => {
  it('flags literal credentials by key path, never by value', () => {
    const config = validateConfig(
      {
        servers: {
          before: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-postgres', 'postgresql://admin:hunter2@db:5432/crm'] },
          gh: {
            command: 'gh-mcp',
            env: { GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', LOG_LEVEL: 'debug', API_KEY: 'vault:gh', OTHER_TOKEN: '${OTHER}' },
          },
          cli: { command: 'tool', args: ['--password', 'hunter2hunter2', '--token=abcdef123456'] },
          remote: { url: 'https://mcp.example.com/mcp?api_key=abc123', headers: { Authorization: 'Bearer sk-live-literal-token-value', 'X-Ok': 'vault:x' } },
          safe: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer vault:remote' } },
          db: { postgres: { database: 'crm', admin: { user: 'gh_admin', password: 'literal-password' }, defaultRole: 'reader' } },
          db2: { postgres: { database: 'crm', admin: { user: 'gh_admin', password: 'vault:pg-admin' }, defaultRole: 'reader' } },
        },
      },
      'test',
      '/tmp',
      { env: { OTHER: 'x' } },
    );
    const values: string[] = [];
    const findings = findInlineSecrets(config, (v) => values.push(v));
    expect(findings).toEqual([
      { path: 'servers.before.args[2]', reason: 'a URL with a password' },
      { path: 'servers.gh.env.GITHUB_TOKEN', reason: 'a value shaped like a credential' },
      { path: 'servers.cli.args[1]', reason: 'a credential passed on the command line (after --password); args are visible to every local user' },
      { path: 'servers.cli.args[2]', reason: 'a credential passed on the command line (token); args are visible to every local user' },
      { path: 'servers.remote.url', reason: 'a credential in the URL\'s query ("api_key")' },
      { path: 'servers.remote.headers.Authorization', reason: 'a literal Authorization credential (use vault:NAME)' },
      { path: 'servers.db.postgres.admin.password', reason: 'a literal database password (use vault:NAME)' },
    ]);
    expect(JSON.stringify(findings)).not.toContain('hunter2');
    expect(values).toContain('literal-password');
    expect(values).toContain('sk-live-literal-token-value');
  });
});
