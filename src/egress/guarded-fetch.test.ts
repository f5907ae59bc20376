import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EgressRefusedError } from '../errors/index.js';
import { EgressGuard, type EgressBlockedEvent, type Resolver } from './egress-guard.js';
import { createGuardedFetch } from './guarded-fetch.js';

/** A loopback listener that counts every TCP connection, whatever happens after. */
let server: Server;
let port: number;
let connections = 0;
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/redirect') return void res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('x'.repeat(40_000));
      return void res.end('x'.repeat(40_000));
    }
    if (req.url === '/declared-big') return void res.writeHead(200, { 'content-length': '100000' }).end('x'.repeat(100_000));
    if (req.url === '/hang') return;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
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
  requests = [];
});

const fixed = (map: Record<string, string[]>): Resolver & { calls: string[] } => {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answers = map[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
};

function guarded(options: { allow?: string[]; resolve?: Resolver; max?: number; timeoutMs?: number } = {}) {
  const blocked: EgressBlockedEvent[] = [];
  const guard = new EgressGuard({ purpose: 'test', allowAddresses: options.allow, resolve: options.resolve, onBlocked: (e) => blocked.push(e) });
  const { fetch, close } = createGuardedFetch({ guard, maxResponseBytes: options.max ?? 16 * 1024, timeoutMs: options.timeoutMs ?? 3000 });
  return { fetch, close, blocked };
}

async function refusal(promise: Promise<unknown>): Promise<EgressRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefusedError);
  return error as EgressRefusedError;
}

describe('guarded fetch', () => {
  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::1]', '0.0.0.0', '[::]'])(
    'refuses the literal host %s before connecting: the listener sees nothing',
    async (host) => {
      const { fetch, close, blocked } = guarded();
      const error = await refusal(fetch(`http://${host}:${port}/doc`));
      expect(error.code).toBe('egress.address_refused');
      expect(connections).toBe(0);
      expect(blocked[0]).toMatchObject({ purpose: 'test', code: 'egress.address_refused' });
      await close();
    },
  );

  it('refuses a name when any of its addresses is not public (mixed answers included), before connecting', async () => {
    const resolve = fixed({
      'loop.test': ['127.0.0.1'],
      'mixed.test': ['93.184.216.34', '127.0.0.1'],
      'mapped.test': ['::ffff:127.0.0.1'],
      'meta.test': ['169.254.169.254'],
      'nat64.test': ['64:ff9b::7f00:1'],
    });
    const { fetch, close, blocked } = guarded({ resolve });
    for (const name of ['loop.test', 'mixed.test', 'mapped.test', 'meta.test', 'nat64.test']) {
      const error = await refusal(fetch(`http://${name}:${port}/doc`));
      expect(error.code, name).toBe('egress.address_refused');
    }
    expect(connections).toBe(0);
    expect(blocked.map((b) => b.class)).toEqual(['loopback', 'loopback', 'loopback', 'metadata', 'loopback']);
    expect(blocked.find((b) => b.host === 'nat64.test')?.via).toEqual(['nat64']);
    await close();
  });

  it('connects to the vetted address only: one resolution per connection, nothing re-resolved after the check', async () => {
    let answer = '127.0.0.1';
    const calls: string[] = [];
    const resolve: Resolver = async (hostname) => {
      calls.push(hostname);
      const current = answer;
      answer = '10.0.0.1'; // a rebinding resolver: the next answer would be private
      return [{ address: current, family: 4 }];
    };
    const { fetch, close } = guarded({ allow: ['127.0.0.1/32'], resolve });
    const response = await fetch(`http://rebind.test:${port}/doc`);
    expect(await response.json()).toEqual({ ok: true });
    expect(calls).toEqual(['rebind.test']);
    expect(requests).toEqual(['/doc']);
    await close();
  });

  it('an explicit allow-list lets loopback through (literal and by name)', async () => {
    const { fetch, close } = guarded({ allow: ['127.0.0.0/8'], resolve: fixed({ 'local.test': ['127.0.0.1'] }) });
    expect((await fetch(`http://127.0.0.1:${port}/a`)).status).toBe(200);
    expect((await fetch(`http://local.test:${port}/b`)).status).toBe(200);
    expect(requests).toEqual(['/a', '/b']);
    await close();
  });

  it('never follows a redirect: the next hop is not contacted', async () => {
    const { fetch, close } = guarded({ allow: ['127.0.0.1/32'] });
    const error = await refusal(fetch(`http://127.0.0.1:${port}/redirect`));
    expect(error.code).toBe('egress.redirect_refused');
    expect(requests).toEqual(['/redirect']);
    await close();
  });

  it('bounds the response size while streaming, and refuses a declared oversize body outright', async () => {
    const { fetch, close } = guarded({ allow: ['127.0.0.1/32'], max: 16 * 1024 });
    const streamed = await fetch(`http://127.0.0.1:${port}/big`);
    const error = await refusal(streamed.text());
    expect(error.code).toBe('egress.response_too_large');
    expect((await refusal(fetch(`http://127.0.0.1:${port}/declared-big`))).code).toBe('egress.response_too_large');
    await close();
  });

  it('gives up on a server that never answers', async () => {
    const { fetch, close } = guarded({ allow: ['127.0.0.1/32'], timeoutMs: 300 });
    await expect(fetch(`http://127.0.0.1:${port}/hang`)).rejects.toThrow();
    await close();
  });

  it('refuses non-http schemes and credentials in the URL', async () => {
    const { fetch, close } = guarded({ allow: ['127.0.0.1/32'] });
    expect((await refusal(fetch(`file:///etc/passwd`))).code).toBe('egress.invalid_url');
    expect((await refusal(fetch(`http://user:pw@127.0.0.1:${port}/`))).code).toBe('egress.invalid_url');
    expect(connections).toBe(0);
    await close();
  });

  it('ignores a dispatcher or redirect mode passed by the caller', async () => {
    const { fetch, close } = guarded();
    const init = { dispatcher: undefined, redirect: 'follow' } as RequestInit;
    expect((await refusal(fetch(`http://127.0.0.1:${port}/doc`, init))).code).toBe('egress.address_refused');
    expect(connections).toBe(0);
    await close();
  });
});
