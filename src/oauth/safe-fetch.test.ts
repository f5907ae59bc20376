import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EgressBlockedEvent, Resolver } from '../egress/index.js';
import { clientIdUrlProblem, safeFetch } from './safe-fetch.js';

let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: 'x', pad: 'y'.repeat(2000) })),
  );
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  connections = 0;
});

const resolver =
  (answers: Record<string, string[]>): Resolver =>
  async (hostname) => {
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('client id URLs', () => {
  const literal = [
    'https://127.0.0.1/c.json',
    'https://[::ffff:127.0.0.1]:8443/c.json',
    'https://[::ffff:7f00:1]/c.json',
    'https://[::1]/c.json',
    'https://[0:0:0:0:0:0:0:1]/c.json',
    'https://2130706433/c.json',
    'https://0177.0.0.1/c.json',
    'https://0x7f.1/c.json',
    'https://127.1/c.json',
    'https://169.254.169.254/latest/meta-data',
    'https://[fd00:ec2::254]/c.json',
    'https://8.8.8.8/c.json',
    'https://[2606:4700::1111]/c.json',
    'https://[64:ff9b::7f00:1]/c.json',
    'https://0.0.0.0/c.json',
    'https://[::]/c.json',
    'https://127.0.0.1./c.json',
  ];
  it.each(literal)('refuses the IP-literal host in %s (even a public one)', (id) => {
    expect(clientIdUrlProblem(id, { allowPrivate: false })).toBe('client_id must name its host by a DNS name, not an IP address');
  });

  it.each([
    'https://localhost/c.json',
    'https://LOCALHOST:8443/c.json',
    'https://localhost./c.json',
    'https://app.localhost/c.json',
    'https://a.b.localhost./c.json',
  ])('refuses this machine by name: %s', (id) => {
    expect(clientIdUrlProblem(id, { allowPrivate: false })).toBe('client_id must not name this machine (localhost)');
  });

  it('accepts DNS names, and the test-only switch accepts loopback', () => {
    expect(clientIdUrlProblem('https://app.example.com/client.json', { allowPrivate: false })).toBeUndefined();
    expect(clientIdUrlProblem('https://localhost.example.com/client.json', { allowPrivate: false })).toBeUndefined();
    expect(clientIdUrlProblem('https://127.0.0.1:8443/client.json', { allowPrivate: true })).toBeUndefined();
    expect(clientIdUrlProblem('http://app.example.com/client.json', { allowPrivate: false })).toBe('client_id must be an https URL');
  });
});

describe('client metadata fetch', () => {
  it('refuses loopback by literal address in every form and by name, before connecting', async () => {
    const blocked: EgressBlockedEvent[] = [];
    const fetch = safeFetch({
      allowPrivate: false,
      maxBytes: () => 5120,
      resolve: resolver({ 'loop.example': ['127.0.0.1'], 'mapped.example': ['::ffff:127.0.0.1'] }),
      onBlocked: (e) => blocked.push(e),
    });
    for (const url of [
      `https://[::ffff:127.0.0.1]:${port}/c.json`,
      `https://127.0.0.1:${port}/c.json`,
      `https://[::1]:${port}/c.json`,
      `https://2130706433:${port}/c.json`,
      `https://loop.example:${port}/c.json`,
      `https://mapped.example:${port}/c.json`,
    ]) {
      await expect(fetch(url), url).rejects.toMatchObject({ code: 'egress.address_refused' });
    }
    expect(connections).toBe(0);
    expect(blocked).toHaveLength(6);
    expect(blocked.every((b) => b.purpose === 'client metadata' && b.class === 'loopback')).toBe(true);
  });

  it('the test-only switch opens loopback, not the metadata addresses', async () => {
    const fetch = safeFetch({ allowPrivate: true, maxBytes: () => 64 * 1024, resolve: resolver({ 'meta.example': ['169.254.169.254'] }) });
    expect((await fetch(`http://127.0.0.1:${port}/c.json`)).status).toBe(200);
    await expect(fetch(`http://169.254.169.254:${port}/c.json`)).rejects.toMatchObject({ code: 'egress.address_refused' });
    await expect(fetch(`http://meta.example:${port}/c.json`)).rejects.toMatchObject({ code: 'egress.address_refused' });
  });

  it('applies the per-URL size limit while streaming', async () => {
    const fetch = safeFetch({ allowPrivate: true, maxBytes: (url) => (url.endsWith('/small') ? 1024 : 64 * 1024) });
    await expect(fetch(`http://127.0.0.1:${port}/small`).then((r) => r.text())).rejects.toMatchObject({ code: 'egress.response_too_large' });
    expect((await (await fetch(`http://127.0.0.1:${port}/large`)).json()).client_id).toBe('x');
  });
});
