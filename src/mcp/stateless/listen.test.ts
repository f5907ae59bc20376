import { describe, expect, it } from 'vitest';
import { ListenHub, ListenStream, MAX_LISTEN_URIS, parseListenFilter, type ListKind } from './listen.js';

function sink() {
  const written: Record<string, unknown>[] = [];
  let closed = false;
  return {
    written,
    write: (data: string) => {
      written.push(JSON.parse(data) as Record<string, unknown>);
      return true;
    },
    end: () => {
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}

describe('parseListenFilter', () => {
  it('keeps the flags asked for and de-duplicates URIs', () => {
    expect(parseListenFilter({ notifications: { toolsListChanged: true, promptsListChanged: false, resourceSubscriptions: ['a', 'a', 'b'] } })).toEqual({
      toolsListChanged: true,
      resourceSubscriptions: ['a', 'b'],
    });
    expect(parseListenFilter({ notifications: {} })).toEqual({});
  });
  it('refuses what is not a filter, with a message naming the field', () => {
    expect(parseListenFilter(undefined)).toMatch(/notifications must be an object/);
    expect(parseListenFilter({ notifications: { resourcesListChanged: 1 } })).toMatch(/resourcesListChanged must be a boolean/);
    expect(parseListenFilter({ notifications: { resourceSubscriptions: [''] } })).toMatch(/resourceSubscriptions/);
    expect(parseListenFilter({ notifications: { resourceSubscriptions: Array(MAX_LISTEN_URIS + 1).fill('u') } })).toMatch(/at most/);
  });
});

describe('ListenStream', () => {
  it('passes on only acknowledged notifications, tagged with the subscription id', async () => {
    const out = sink();
    const stream = new ListenStream(7, { resourceSubscriptions: ['file:///a'] }, out, async () => 'same');
    stream.acknowledge();
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///a' } });
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///b' } });
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
    expect(out.written).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { resourceSubscriptions: ['file:///a'] }, _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } },
      },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///a', _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } },
    ]);
  });

  it("reports a list change only when the caller's filtered view changed", async () => {
    const out = sink();
    let tools = 'v1';
    const digest = async (kind: ListKind) => (kind === 'tools' ? tools : 'other');
    const stream = new ListenStream('s', { toolsListChanged: true }, out, digest);
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(out.written).toEqual([]);
    tools = 'v2';
    await stream.offer({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(out.written).toEqual([
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 's' } } },
    ]);
  });

  it('closes gracefully with the listen request’s own response; the hub knows what other streams still watch', () => {
    const hub = new ListenHub();
    const one = new ListenStream(1, { resourceSubscriptions: ['u1', 'u2'] }, sink(), async () => '');
    const twoSink = sink();
    const two = new ListenStream(2, { resourceSubscriptions: ['u2'] }, twoSink, async () => '');
    hub.add(one);
    hub.add(two);
    expect([...hub.watched(one)]).toEqual(['u2']);
    hub.closeAll();
    expect(twoSink.written.at(-1)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 2 } },
    });
    expect(twoSink.closed).toBe(true);
    expect(hub.size).toBe(0);
  });
});
