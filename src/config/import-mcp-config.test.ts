import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { importMcpServers } from './import-mcp-config.js';

const secrets = ['ghp_canary123456', 's3cret-Passw0rd', 'sk-live-canary987', 'tok-flag-value1', 'tok-flag-value2'];

describe('importMcpServers', () => {
  const { yaml, variables, warnings } = importMcpServers(
    JSON.stringify({
      mcpServers: {
        github: { command: 'npx', args: ['-y', 'server-github'], env: { GITHUB_TOKEN: 'ghp_canary123456' } },
        postgres: { command: 'npx', args: ['server-postgres', 'postgresql://admin:s3cret-Passw0rd@db.internal:5432/prod'] },
        flags: { command: 'tool', args: ['--api-key=tok-flag-value1', '--token', 'tok-flag-value2', '--verbose', '--port', '8080'] },
        api: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer sk-live-canary987', 'X-Tenant': 'acme' } },
      },
    }),
  );
  const config = parse(yaml) as { servers: Record<string, { args?: string[]; env?: Record<string, string>; headers?: Record<string, string> }> };

  it('copies no secret value into the generated YAML', () => {
    for (const secret of secrets) expect(yaml).not.toContain(secret);
    for (const secret of secrets) expect(warnings.join('\n')).not.toContain(secret);
  });

  it('turns env values, credential headers, connection-string passwords and credential flags into ${VAR} references', () => {
    expect(config.servers.github?.env).toEqual({ GITHUB_TOKEN: '${GITHUB_GITHUB_TOKEN}' });
    expect(config.servers.postgres?.args).toEqual(['server-postgres', 'postgresql://admin:${POSTGRES_ARG1_PASSWORD}@db.internal:5432/prod']);
    expect(config.servers.flags?.args).toEqual(['--api-key=${FLAGS_API_KEY}', '--token', '${FLAGS_TOKEN}', '--verbose', '--port', '8080']);
    expect(config.servers.api?.headers).toEqual({ Authorization: '${API_AUTHORIZATION}', 'X-Tenant': 'acme' });
    expect(variables).toEqual(['GITHUB_GITHUB_TOKEN', 'POSTGRES_ARG1_PASSWORD', 'FLAGS_API_KEY', 'FLAGS_TOKEN', 'API_AUTHORIZATION']);
  });

  it('warns about each moved credential, masking it', () => {
    expect(warnings).toContain(
      'server "postgres" had a password inside a connection string in its args (postgresql://admin:***@db.internal:5432/prod); it now comes from ${POSTGRES_ARG1_PASSWORD} — set it in the gateway\'s environment (percent-encoded, as in the URL)',
    );
    expect(warnings.filter((w) => w.startsWith('server "flags" had a credential'))).toHaveLength(2);
  });
});

describe('importMcpServers names', () => {
  it('rewrites names into valid server names that qualify unambiguously (no "_" at either end, no "__")', () => {
    const { yaml } = importMcpServers(
      JSON.stringify({ mcpServers: { ops_: { command: 'a' }, ops: { command: 'b' }, __x__y__: { command: 'c' }, 'my.server': { command: 'd' } } }),
    );
    const names = Object.keys((parse(yaml) as { servers: Record<string, unknown> }).servers);
    expect(names).toEqual(['ops', 'ops-2', 'x_y', 'my-server']);
  });
});
