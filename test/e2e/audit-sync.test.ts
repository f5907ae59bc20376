import { afterAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, cli, connectClient, ECHO_SERVER, NODE, startGateway, text } from '../helpers/e2e.js';

afterAll(cleanup);

/**
 * `audit.sync: os` gives up the fdatasync, not the write-ahead: the intent record of a call is
 * in the database file before the upstream runs, so a gateway killed with SIGKILL right after
 * the call has lost nothing, and the chain still verifies.
 */
describe('audit.sync: os', () => {
  it("warns at start, and a gateway SIGKILLed right after answering keeps the call's intent record", async () => {
    const gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
        audit: { sync: 'os' },
      },
    });
    expect(gw.stdout + gw.stderr).toContain('audit.sync is \\"os\\"');
    const issued = await cli(['token', 'issue', '--data-dir', gw.dataDir, '--sub', 'alice']);
    expect(issued.code, issued.stderr).toBe(0);
    const client = await connectClient(gw, issued.stdout.trim());
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'kept across a kill' } }))).toBe('kept across a kill');

    const killed = await gw.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');

    // The intent was committed before the upstream ran; the result record is written lazily
    // (within milliseconds) and may or may not have made it before the kill.
    const calls = auditRows(gw.dataDir).filter((r) => r.kind.startsWith('call.'));
    expect(calls[0]?.kind).toBe('call.intent');
    expect(calls[0]?.body.actor?.sub).toBe('alice');
    expect(calls[0]?.body.target?.tool).toMatch(/echo/);
    expect(calls.slice(1).map((r) => r.kind)).not.toContain('call.intent');
    const verify = await cli(['audit', 'verify', '--data-dir', gw.dataDir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
