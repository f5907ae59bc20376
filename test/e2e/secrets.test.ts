import { randomBytes } from 'node:crypto';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  connectClient,
  ECHO_SERVER,
  MCP_HEADERS,
  NODE,
  openRawSession,
  rawHttp,
  startEchoHttp,
  startGateway,
  text,
  waitFor,
  type EchoHttpUpstream,
  type GatewayProcess,
} from '../helpers/e2e.js';

/**
 * Credentials stay where they belong: the agent's token never goes upstream, configured
 * upstream credentials never go to the agent's side, and neither appears in logs or audit.
 */
describe('secrets', () => {
  const stdioCanary = `canary-stdio-${randomBytes(8).toString('hex')}`;
  const headerCanary = `canary-header-${randomBytes(8).toString('hex')}`;
  let upstream: EchoHttpUpstream;
  let gw: GatewayProcess;
  let token: string;

  beforeAll(async () => {
    upstream = await startEchoHttp();
    gw = await startGateway({
      config: {
        servers: {
          local: { command: NODE, args: [ECHO_SERVER], env: { ECHO_SECRET: '${GATEHOUSE_E2E_SECRET}' } },
          remote: { url: upstream.url, headers: { 'X-Upstream-Key': '${UPSTREAM_KEY}' }, egress: { allowAddresses: ['127.0.0.1/32'] } },
        },
        access: [{ allow: { users: ['alice'], servers: ['local', 'remote'] } }],
        // Everything the gateway can log, it logs: the scrubbing must hold at every level.
        log: { level: 'trace' },
      },
      env: { GATEHOUSE_E2E_SECRET: stdioCanary, UPSTREAM_KEY: headerCanary },
    });
    token = await gw.token('alice');
  });
  afterAll(cleanup);

  it('never passes the agent’s token (or session) to a remote upstream; the configured header goes instead', async () => {
    const client = await connectClient(gw, token);
    const before = (await upstream.seenHeaders()).length;
    expect(text(await client.callTool({ name: 'remote__echo', arguments: { text: 'hello upstream' } }))).toBe('hello upstream');
    const seen = await upstream.seenHeaders();
    expect(seen.length).toBeGreaterThan(before);

    const agentSession = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    const signature = token.split('.')[2] as string;
    for (const headers of seen) {
      expect(headers.authorization).toBeUndefined();
      expect(headers['x-upstream-key']).toBe(headerCanary);
      const values = JSON.stringify(headers);
      expect(values).not.toContain(signature);
      expect(values).not.toContain(agentSession);
      expect(values).not.toMatch(/bearer/i);
    }
  });

  it('scrubs a ${VAR}-resolved value from the upstream’s stderr before logging it', async () => {
    const client = await connectClient(gw, token);
    expect(text(await client.callTool({ name: 'local__stderr_env', arguments: { name: 'ECHO_SECRET' } }))).toBe('written to stderr');
    // The line is logged (so the check below is not vacuous), with the value replaced.
    const line = await gw.waitForLog((l) => l.stream === 'stderr' && String(l.msg).startsWith('ECHO_SECRET='), 'the child’s stderr line');
    expect(line).toMatchObject({ level: 'info', server: 'local', msg: 'ECHO_SECRET=[REDACTED]' });
  });

  it('keeps tokens, Authorization headers and resolved values out of every log line and audit record', async () => {
    // Traffic that touches every credential: good calls, a forged token, a token on a foreign session.
    const client = await connectClient(gw, token);
    await client.callTool({ name: 'remote__echo', arguments: { text: 'again' } });
    await client.callTool({ name: 'local__stderr_env', arguments: { name: 'ECHO_SECRET' } });
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    const bad = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${forged}` }, body: '{}' });
    expect(bad.status).toBe(401);
    const other = await gw.token('mallory');
    const sid = await openRawSession(gw, token);
    const foreign = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${other}`, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(foreign.status).toBe(404);

    await waitFor(() => auditRows(gw.dataDir).some((r) => r.kind === 'auth.failure'), 'the auth failure record');
    await gw.waitForLog((l) => l.stream === 'stderr', 'child stderr');

    const logs = gw.stderr;
    // The logs are not empty: both upstreams' start and the child's stderr lines are in them.
    expect(
      gw
        .logs()
        .filter((l) => l.msg === 'upstream ready')
        .map((l) => l.server)
        .sort(),
    ).toEqual(['local', 'remote']);
    expect(gw.logs().filter((l) => l.stream === 'stderr').length).toBeGreaterThanOrEqual(2);
    const audit = auditRows(gw.dataDir)
      .map((r) => r.rawBody)
      .join('\n');
    for (const [where, haystack] of [
      ['logs', logs],
      ['audit', audit],
    ] as const) {
      for (const secret of [stdioCanary, headerCanary, token, other, forged, token.split('.')[2] as string, other.split('.')[2] as string]) {
        expect(haystack.includes(secret), `${where} contain a secret`).toBe(false);
      }
      expect(haystack, where).not.toMatch(/Bearer\s+eyJ/i);
      expect(haystack, where).not.toMatch(/"authorization"\s*:\s*"(?!\[REDACTED\])/i);
    }
  });
});
