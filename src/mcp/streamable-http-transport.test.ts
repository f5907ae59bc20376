import type { JSONRPCMessage, LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { StreamableHttpTransport, type EventStream, type ReplyChannel } from './streamable-http-transport.js';

/** A reply channel that records what the client would receive. */
function recorder() {
  const events: string[] = [];
  let body: string | null | undefined;
  const reply: ReplyChannel = {
    body: (_status, b) => {
      body = b;
    },
    openStream: (): EventStream => ({
      write: (data) => (events.push(data), true),
      comment: () => undefined,
      end: () => undefined,
      closed: false,
      onClose: () => undefined,
    }),
  };
  return { reply, events, body: () => body };
}

/** One stateless tools/call through the transport, during which the server logs at `levels`. */
async function callLogging(logLevel: LoggingLevel | undefined, levels: LoggingLevel[], stateless = true) {
  const transport = new StreamableHttpTransport('s', undefined, stateless);
  let received: JSONRPCMessage | undefined;
  transport.onmessage = (m) => (received = m);
  const out = recorder();
  transport.acceptPost([{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 't' } }], false, out.reply, undefined, [], { logLevel } as Parameters<
    StreamableHttpTransport['acceptPost']
  >[5]);
  const internal = (received as { id: string | number }).id;
  for (const level of levels) {
    await transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level, data: `at ${level}` } }, { relatedRequestId: internal });
  }
  await transport.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }, { relatedRequestId: internal });
  await transport.send({ jsonrpc: '2.0', id: internal, result: { content: [] } });
  const messages = [...out.events, ...(out.body() ? [out.body() as string] : [])].map((e) => JSON.parse(e) as Record<string, any>);
  return {
    logs: messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.level as string),
    progress: messages.filter((m) => m.method === 'notifications/progress').length,
    response: messages.find((m) => m.id !== undefined),
  };
}

describe('stateless requests get log messages only when they ask for them', () => {
  it('a request without a log level gets none; progress and the response still arrive', async () => {
    const { logs, progress, response } = await callLogging(undefined, ['debug', 'info', 'emergency']);
    expect(logs).toEqual([]);
    expect(progress).toBe(1);
    expect(response).toMatchObject({ id: 7, result: { content: [] } });
  });

  it('a request with a log level gets the messages at or above it, in order', async () => {
    const { logs, response } = await callLogging('warning', ['debug', 'info', 'warning', 'error', 'notice', 'emergency']);
    expect(logs).toEqual(['warning', 'error', 'emergency']);
    expect(response).toMatchObject({ id: 7 });
  });

  it('a message with a level that is not a logging level is not sent', async () => {
    const { logs } = await callLogging('debug', ['loud' as LoggingLevel, 'info']);
    expect(logs).toEqual(['info']);
  });

  it('the session era is unchanged: the session decides (logging/setLevel), not the request', async () => {
    const { logs } = await callLogging(undefined, ['debug', 'info'], false);
    expect(logs).toEqual(['debug', 'info']);
  });
});
