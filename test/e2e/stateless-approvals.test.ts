import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalRows, auditRows, cleanup, startGateway, STARTER_POLICIES, waitFor, type GatewayProcess } from '../helpers/policy-e2e.js';

afterAll(cleanup);

type PendingMeta = { id: string; status: string; level: string; url: string };
const pendingMeta = (result: unknown): PendingMeta | undefined => (result as { _meta?: Record<string, PendingMeta> })._meta?.['gatehouse/approval'];
const textOf = (result: unknown) => ((result as { content: { text?: string }[] }).content[0]?.text ?? '') as string;

/** Approvals without sessions: a held call answers with a retryable pending result; the retry after approval runs once. */
describe('four-eyes approvals in the stateless revision', () => {
  let gw: GatewayProcess;
  let client: Client;

  beforeAll(async () => {
    gw = await startGateway(
      {
        approvals: { approvers: { echo: { users: ['carol'] } }, directory: { carol: ['sre'], alice: ['eng'] }, wait: '300ms', ttl: '30s' },
        rateLimits: { enabled: false },
      },
      { policies: STARTER_POLICIES },
    );
    const token = await gw.token('alice', ['eng']);
    client = new Client({ name: 'sdk-2', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  });
  afterAll(() => client?.close());

  it('holds the destructive call, approval by a second person releases exactly the retried call, once', async () => {
    const args = { name: 'delete_everything', arguments: { table: 'stateless' } };
    const first = await client.callTool(args);
    const meta = pendingMeta(first);
    expect(first.isError).toBe(true);
    expect(meta).toMatchObject({ status: 'pending', level: 'four-eyes' });
    expect(meta?.url).toBe(`${gw.url}/console/approvals/${meta?.id}`);
    expect(textOf(first)).toContain('Approval pending');
    expect(approvalRows(gw.dataDir).find((r) => r.id === meta?.id)?.requester).toBe('alice');

    expect((await gw.cli(['approvals', 'approve', meta?.id as string, '--as', 'carol'])).code).toBe(0);
    expect(textOf(await client.callTool(args))).toBe('deleted (not really)');
    // Used once: the same call again needs a new approval.
    const replay = await client.callTool(args);
    expect(pendingMeta(replay)?.status).toBe('pending');
    expect(pendingMeta(replay)?.id).not.toBe(meta?.id);
    await waitFor(() => auditRows(gw.dataDir).filter((r) => r.kind === 'approval.used' && r.body.approval?.id === meta?.id).length === 1, 'one use');
  });
});
