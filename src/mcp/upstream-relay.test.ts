import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { fakeAudit } from '../../test/helpers/call-context.js';
import type { UpstreamInstance } from '../connectors/mcp-upstream/index.js';
import { silentLogger } from '../log/index.js';
import { SessionRegistry } from './session.js';
import { UpstreamRelay } from './upstream-relay.js';

function relay(forwardRoots = false) {
  const { audit, records } = fakeAudit();
  const sessions = new SessionRegistry({ maxPerUser: 10, idleTimeoutMs: 60_000, onClosed: () => undefined });
  return { relay: new UpstreamRelay({ sessions, audit, log: silentLogger(), forwardRoots: () => forwardRoots }), records };
}

/** A shared instance with no session attached and nothing in flight. */
const instance = { server: 'echo', key: '*', inflight: new Map(), sessions: new Set<string>() } as unknown as UpstreamInstance;
const request = (method: string) => ({ jsonrpc: '2.0' as const, id: 1, method, params: {} });

describe('upstream relay', () => {
  it('records an upstream that exited and is restarting, and nothing for other state changes', () => {
    const { relay: r, records } = relay();
    r.onStateChanged(instance, 'restarting', { code: 1, signal: null } as never);
    r.onStateChanged(instance, 'ready');
    r.onStateChanged(instance, 'restarting');
    expect(records).toEqual([{ kind: 'upstream.exit', body: { target: { server: 'echo' }, exit: { code: 1, signal: null } }, durable: false }]);
  });

  it('refuses server→client requests it does not relay, and roots where the server may not ask for them', async () => {
    const { relay: r, records } = relay(false);
    for (const method of ['tools/call', 'roots/list']) {
      await expect(r.onServerRequest(instance, request(method), new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.MethodNotFound });
    }
    expect(records).toEqual([]);
  });

  it('refuses a request it cannot attribute to a single session, and records and sends nothing', async () => {
    const { relay: r, records } = relay(true);
    await expect(r.onServerRequest(instance, request('sampling/createMessage'), new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCode.InternalError,
      message: expect.stringContaining('cannot attribute this request to a single client session'),
    });
    expect(records).toEqual([]);
  });
});
