import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressGuard, type EgressBlockedEvent } from './egress-guard.js';
import { startConnectProxy, type ConnectProxy } from './connect-proxy.js';

let target: Server;
let port = 0;
let proxy: ConnectProxy;
const blocked: EgressBlockedEvent[] = [];
let accepted = 0;

/** Sends `head` to the proxy and returns everything it answers (until it closes or `until` appears). */
function exchange(head: string | Buffer, until?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.socketPath);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until && text.includes(until)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(head);
  });
}

beforeAll(async () => {
  target = createServer((socket) => {
    accepted++;
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  port = (target.address() as { port: number }).port;
  proxy = await startConnectProxy({
    guard: new EgressGuard({ purpose: 'test', allowHosts: ['127.0.0.1', 'allowed.test'], allowAddresses: ['127.0.0.1/32'], onBlocked: (e) => blocked.push(e) }),
  });
});

afterAll(async () => {
  await proxy.close();
  target.close();
});

describe('startConnectProxy', () => {
  it('tunnels to an allowed host and address', async () => {
    const text = await exchange(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nhello`, 'echo:hello');
    expect(text).toContain('HTTP/1.1 200 Connection Established\r\n\r\n');
    expect(text).toContain('echo:hello');
  });

  it('refuses a host outside the allow-list without connecting, and reports it', async () => {
    const before = accepted;
    const text = await exchange(`CONNECT localhost:${port} HTTP/1.1\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(text).toContain('not in the egress allow-list');
    expect(accepted).toBe(before);
    expect(blocked.at(-1)).toMatchObject({ host: 'localhost', code: 'egress.host_refused' });
  });

  it('refuses an allowed name that resolves to a refused address (the address check, not the list)', async () => {
    const guarded = await startConnectProxy({
      guard: new EgressGuard({ purpose: 'test', allowHosts: ['metadata.test'], resolve: async () => [{ address: '169.254.169.254', family: 4 }] }),
    });
    try {
      const text = await new Promise<string>((resolve) => {
        const socket = connect(guarded.socketPath);
        let out = '';
        socket.on('data', (d) => (out += d.toString()));
        socket.on('close', () => resolve(out));
        socket.write('CONNECT metadata.test:80 HTTP/1.1\r\n\r\n');
      });
      expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden/);
      expect(text).toContain('169.254.169.254');
    } finally {
      await guarded.close();
    }
  });

  it('refuses anything but CONNECT (plain proxying), malformed targets and oversized heads', async () => {
    const before = accepted;
    expect(await exchange(`GET http://127.0.0.1:${port}/ HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 405/);
    expect(await exchange(`CONNECT 127.0.0.1:${port}@evil HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 405/);
    expect(await exchange(`CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    expect(await exchange(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nX: ${'a'.repeat(9000)}`)).toMatch(/^HTTP\/1\.1 431/);
    expect(accepted).toBe(before);
  });
});
