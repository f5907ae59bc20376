import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EgressRefusedError } from '../errors/index.js';
import type { EgressGuard } from './egress-guard.js';
import { canonicalAddress, parseIpAddress } from './ip-address.js';

/** Largest request head accepted (the CONNECT line and its headers). */
const MAX_HEAD_BYTES = 8 * 1024;
const HEAD_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** `CONNECT host:port HTTP/1.x`: a bracketed IPv6 literal or a name/IPv4 of DNS characters. */
const CONNECT_LINE = /^CONNECT (\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253}):([0-9]{1,5}) HTTP\/1\.[01]$/;

export interface ConnectProxy {
  /** The unix socket the sandboxed process's forwarder connects to. */
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  guard: EgressGuard;
  /** Called once per refused or failed tunnel (the guard reports refusals to the audit log itself). */
  onRefused?: (target: string, reason: string) => void;
}

function answer(socket: Socket, status: string, reason: string): void {
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

/**
 * An HTTP CONNECT proxy on a private unix socket: the only way out of a sandbox whose network is
 * `egress`. Each tunnel's host is checked against the allow-list, resolved once, every address
 * checked (loopback, private, metadata refused unless allowed), and the connection made to
 * exactly a vetted address and checked again once connected — the HTTP connector's rules.
 * Only CONNECT: plain-HTTP proxying would put the request, not a tunnel, in the gateway's hands.
 */
export async function startConnectProxy(options: ConnectProxyOptions): Promise<ConnectProxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-egress-'));
  const socketPath = path.join(dir, 'proxy.sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    client.setTimeout(HEAD_TIMEOUT_MS, () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.byteLength > MAX_HEAD_BYTES) answer(client, '431 Request Header Fields Too Large', 'request head too large');
        return;
      }
      client.off('data', onData);
      client.setTimeout(0);
      const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const rest = head.subarray(end + 4);
      void tunnel(client, line, rest);
    };
    client.on('data', onData);
  });

  const tunnel = async (client: Socket, line: string, rest: Buffer): Promise<void> => {
    const match = CONNECT_LINE.exec(line);
    if (!match) {
      answer(client, '405 Method Not Allowed', 'only CONNECT tunnels are allowed through this proxy\n');
      return;
    }
    const rawHost = match[1] as string;
    const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost.toLowerCase();
    const port = Number(match[2]);
    const target = `${rawHost}:${port}`;
    if (port < 1 || port > 65535) {
      answer(client, '400 Bad Request', 'invalid port\n');
      return;
    }
    let addresses;
    try {
      options.guard.assertUrl(new URL(`https://${rawHost}:${port}/`));
      addresses = await options.guard.resolve(host);
    } catch (error) {
      const reason = error instanceof EgressRefusedError ? error.message : 'the destination could not be resolved';
      options.onRefused?.(target, reason);
      answer(client, '403 Forbidden', `${reason}\n`);
      return;
    }
    const address = canonicalAddress(addresses[0] as NonNullable<(typeof addresses)[0]>);
    const upstream = connect({ host: address, port, timeout: CONNECT_TIMEOUT_MS });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.once('error', (error) => {
      if (!client.writableEnded && upstream.bytesRead === 0) {
        options.onRefused?.(target, error.message);
        answer(client, '502 Bad Gateway', `could not connect to ${target}\n`);
      } else client.destroy();
    });
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      // The address actually connected to, checked again (nothing between resolve and connect changes it).
      const peer = parseIpAddress(upstream.remoteAddress ?? '');
      try {
        if (!peer) throw new EgressRefusedError('egress.address_refused', `refusing ${target}: no peer address`);
        options.guard.assertAddress(peer, host);
      } catch (error) {
        upstream.destroy();
        answer(client, '403 Forbidden', `${(error as Error).message}\n`);
        return;
      }
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (rest.byteLength > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The gateway's lifetime, not the proxy's, decides when the process ends; its socket goes with it.
  server.unref();
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  return {
    socketPath,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      process.off('exit', removeDir);
      removeDir();
    },
  };
}
