import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { describe, expect, it } from 'vitest';
import { mcpCors, type CorsVariables } from './cors.js';

const ORIGIN = 'http://127.0.0.1:8787';

/** hono/cors as it was used for every request before requests without Origin took their own path. */
function honoCors(): MiddlewareHandler<{ Variables: CorsVariables }> {
  const origins = new Set([ORIGIN]);
  const headers = cors({
    origin: (origin) => (origins.has(origin.toLowerCase()) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID', 'DPoP'],
    exposeHeaders: ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate'],
    maxAge: 600,
  });
  return (c, next) =>
    headers(c, async () => {
      c.set('corsHeaders', { vary: 'Origin' });
      await next();
    });
}

function app(middleware: MiddlewareHandler<{ Variables: CorsVariables }>, seen: Record<string, string>[]) {
  const a = new Hono<{ Variables: CorsVariables }>();
  a.use('*', middleware);
  a.use('/early', () => Promise.resolve(new Response('no', { status: 401, headers: { 'www-authenticate': 'Bearer' } })));
  a.get('/json', (c) => {
    seen.push(c.get('corsHeaders'));
    return c.json({ ok: true });
  });
  a.post('/raw', () => new Response('bad', { status: 400, headers: { 'content-type': 'text/plain', vary: 'Accept' } }));
  a.get('/throw', () => {
    throw new Error('boom');
  });
  a.post('/sent', (c) => {
    seen.push(c.get('corsHeaders'));
    return RESPONSE_ALREADY_SENT;
  });
  a.onError(() => new Response('{"error":"server_error"}', { status: 500, headers: { 'content-type': 'application/json' } }));
  return a;
}

const headersOf = (res: Response) => [...res.headers.entries()].sort(([a], [b]) => a.localeCompare(b));

describe('mcpCors', () => {
  const requests: [string, RequestInit][] = [
    ['/json', { method: 'GET' }],
    ['/raw', { method: 'POST' }],
    ['/early', { method: 'POST' }],
    ['/throw', { method: 'GET' }],
    ['/missing', { method: 'GET' }],
  ];

  it('gives a request without Origin exactly the status, headers and body hono/cors gives it, on every kind of response Hono sends', async () => {
    const mineSeen: Record<string, string>[] = [];
    const theirsSeen: Record<string, string>[] = [];
    const mine = app(mcpCors([ORIGIN]), mineSeen);
    const theirs = app(honoCors(), theirsSeen);
    for (const [url, init] of requests) {
      const a = await mine.request(url, init);
      const b = await theirs.request(url, init);
      expect(a.status, url).toBe(b.status);
      expect(headersOf(a), url).toEqual(headersOf(b));
      expect(await a.text(), url).toBe(await b.text());
      expect(a.headers.get('access-control-allow-origin'), url).toBeNull();
      expect(a.headers.get('access-control-expose-headers'), url).toBe('Mcp-Session-Id,Mcp-Protocol-Version,WWW-Authenticate');
    }
    expect((await mine.request('/raw', { method: 'POST' })).headers.get('vary')).toBe('Accept, Origin');
    expect(mineSeen).toEqual([{ vary: 'Origin' }]);
    expect(mineSeen).toEqual(theirsSeen);
  });

  it('leaves the shared already-sent response untouched, however many requests end with it', async () => {
    const seen: Record<string, string>[] = [];
    const mine = app(mcpCors([ORIGIN]), seen);
    const before = headersOf(RESPONSE_ALREADY_SENT);
    for (let i = 0; i < 5; i++) {
      const res = await mine.request('/sent', { method: 'POST' });
      expect(res.headers.get('access-control-expose-headers')).toBeNull();
    }
    expect(headersOf(RESPONSE_ALREADY_SENT)).toEqual(before);
    expect(RESPONSE_ALREADY_SENT.headers.get('vary')).toBeNull();
    expect(seen).toEqual(Array.from({ length: 5 }, () => ({ vary: 'Origin' })));
  });

  it('still negotiates through hono/cors when there is an Origin or a preflight', async () => {
    const seen: Record<string, string>[] = [];
    const mine = app(mcpCors([ORIGIN]), seen);
    const allowed = await mine.request('/sent', { method: 'POST', headers: { origin: ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(seen.at(-1)).toMatchObject({ vary: 'Origin', 'access-control-allow-origin': ORIGIN });
    const json = await mine.request('/json', { headers: { origin: ORIGIN } });
    expect(json.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(json.headers.get('vary')).toBe('Origin');
    const foreign = await mine.request('/json', { headers: { origin: 'http://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await mine.request('/json', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Mcp-Session-Id/);
    expect(RESPONSE_ALREADY_SENT.headers.get('access-control-allow-origin')).toBeNull();
  });
});
