import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EgressRefusedError } from '../errors/index.js';
import { EgressGuard, type EgressBlockedEvent, type Resolver } from './egress-guard.js';
import { createGuardedFetch } from './guarded-fetch.js';

/** Two origins on loopback: the API, and "elsewhere" (another port is another origin). */
interface Seen {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let api: Server;
let other: Server;
let apiPort: number;
let otherPort: number;
let seenApi: Seen[] = [];
let seenOther: Seen[] = [];

function recorder(seen: () => Seen[], route: (req: Seen) => [number, Record<string, string>, string]): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const entry = { url: req.url ?? '', method: req.method ?? '', headers: req.headers, body };
      seen().push(entry);
      const [status, headers, text] = route(entry);
      res.writeHead(status, headers).end(text);
    });
  });
}

beforeAll(async () => {
  other = recorder(
    () => seenOther,
    () => [200, { 'content-type': 'application/json' }, '{"other":true}'],
  );
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherPort = (other.address() as AddressInfo).port;
  api = recorder(
    () => seenApi,
    (req) => {
      const to = (location: string, status = 302): [number, Record<string, string>, string] => [status, { location }, ''];
      switch (req.url) {
        case '/same':
          return to('/target');
        case '/other-307':
          return to(`http://127.0.0.1:${otherPort}/landing`, 307);
        case '/other-303':
          return to(`http://127.0.0.1:${otherPort}/landing`, 303);
        case '/metadata':
          return to('http://169.254.169.254/latest/meta-data/');
        case '/metadata-hex':
          return to('http://0xa9fea9fe/latest/');
        case '/mapped':
          return to(`http://[::ffff:7f00:2]:${otherPort}/`); // 127.0.0.2: loopback outside the allowed /32
        case '/unlisted':
          return to(`http://unlisted.test:${otherPort}/`);
        case '/loop':
          return to('/loop');
        case '/garbage':
          return to('http://[::1');
        default:
          return [200, { 'content-type': 'application/json' }, '{"ok":true}'];
      }
    },
  );
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiPort = (api.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of [api, other]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

beforeEach(() => {
  seenApi = [];
  seenOther = [];
});

const resolver: Resolver = async (hostname) => {
  if (hostname === 'api.test' || hostname === 'unlisted.test') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

function setup(allowHosts: string[] = ['api.test', '127.0.0.1']) {
  const blocked: EgressBlockedEvent[] = [];
  const guard = new EgressGuard({ purpose: 'test', allowAddresses: ['127.0.0.1/32'], allowHosts, resolve: resolver, onBlocked: (e) => blocked.push(e) });
  const http = createGuardedFetch({ guard, maxResponseBytes: 4096, timeoutMs: 3000, redirects: { max: 3, credentialHeaders: ['x-api-key'] } });
  return { http, blocked };
}

const CREDENTIALS = { authorization: 'Bearer CANARY-TOKEN', 'x-api-key': 'CANARY-KEY', cookie: 'session=CANARY-COOKIE', 'x-plain': 'kept' };

async function refusal(promise: Promise<unknown>): Promise<EgressRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefusedError);
  return error as EgressRefusedError;
}

describe('redirects, followed hop by hop through the guard', () => {
  it('follows a same-origin redirect with its credentials and says where the answer came from', async () => {
    const { http } = setup();
    const { response, url, redirects } = await http.exchange(`http://api.test:${apiPort}/same`, { headers: CREDENTIALS });
    expect(await response.json()).toEqual({ ok: true });
    expect(redirects).toBe(1);
    expect(url.pathname).toBe('/target');
    expect(seenApi.map((s) => s.url)).toEqual(['/same', '/target']);
    expect(seenApi[1]?.headers.authorization).toBe('Bearer CANARY-TOKEN');
    expect(seenApi[1]?.headers['x-api-key']).toBe('CANARY-KEY');
    await http.close();
  });

  it('a 307 to another origin repeats method and body but carries no credential', async () => {
    const { http } = setup(['api.test', '127.0.0.1']);
    const response = await http.fetch(`http://api.test:${apiPort}/other-307`, {
      method: 'POST',
      headers: { ...CREDENTIALS, 'content-type': 'application/json' },
      body: '{"amount":5}',
    });
    expect(response.status).toBe(200);
    expect(seenOther).toHaveLength(1);
    const landed = seenOther[0] as Seen;
    expect(landed.method).toBe('POST');
    expect(landed.body).toBe('{"amount":5}');
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers['x-api-key']).toBeUndefined();
    expect(landed.headers.cookie).toBeUndefined();
    expect(landed.headers['x-plain']).toBe('kept');
    expect(JSON.stringify(landed.headers)).not.toContain('CANARY');
    await http.close();
  });

  it('a 303 becomes a GET without the body', async () => {
    const { http } = setup(['api.test', '127.0.0.1']);
    await http.fetch(`http://api.test:${apiPort}/other-303`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(seenOther[0]).toMatchObject({ method: 'GET', body: '' });
    expect(seenOther[0]?.headers['content-type']).toBeUndefined();
    await http.close();
  });

  it.each([
    ['/metadata', 'egress.host_refused'],
    ['/metadata-hex', 'egress.host_refused'],
    ['/unlisted', 'egress.host_refused'],
  ])('refuses the hop %s (host not allowed) before connecting, and reports it', async (path, code) => {
    const { http, blocked } = setup(['api.test']);
    const error = await refusal(http.fetch(`http://api.test:${apiPort}${path}`, { headers: CREDENTIALS }));
    expect(error.code).toBe(code);
    expect(seenOther).toHaveLength(0);
    expect(blocked.at(-1)).toMatchObject({ purpose: 'test', code });
    await http.close();
  });

  it.each(['/metadata', '/metadata-hex', '/mapped'])('with the hosts allowed, the address still decides the hop %s', async (path) => {
    const { http, blocked } = setup(['api.test', '169.254.169.254', '[::ffff:7f00:2]']);
    const error = await refusal(http.fetch(`http://api.test:${apiPort}${path}`));
    expect(error.code).toBe('egress.address_refused');
    expect(seenOther).toHaveLength(0);
    expect(blocked.at(-1)?.class).toBe(path === '/mapped' ? 'loopback' : 'metadata');
    await http.close();
  });

  it('gives up after the configured number of hops, and on a Location that is not a URL', async () => {
    const { http, blocked } = setup();
    expect((await refusal(http.fetch(`http://api.test:${apiPort}/loop`))).code).toBe('egress.redirect_refused');
    expect(seenApi).toHaveLength(4);
    expect((await refusal(http.fetch(`http://api.test:${apiPort}/garbage`))).code).toBe('egress.redirect_refused');
    expect(blocked.map((b) => b.code)).toEqual(['egress.redirect_refused', 'egress.redirect_refused']);
    await http.close();
  });

  it('without `redirects`, a redirect is refused and the next hop never contacted', async () => {
    const guard = new EgressGuard({ purpose: 'test', allowAddresses: ['127.0.0.1/32'], resolve: resolver });
    const http = createGuardedFetch({ guard, maxResponseBytes: 4096 });
    expect((await refusal(http.fetch(`http://api.test:${apiPort}/same`))).code).toBe('egress.redirect_refused');
    expect(seenApi.map((s) => s.url)).toEqual(['/same']);
    await http.close();
  });
});
