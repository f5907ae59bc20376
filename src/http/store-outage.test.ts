import { describe, expect, it } from 'vitest';
import { fakePrincipal } from '../../test/helpers/call-context.js';
import type { AuthenticationError } from '../errors/index.js';
import { TokenError, type Principal } from '../tokens/index.js';
import { createHttpApp } from './app.js';
import { responseStatus } from './unavailable-status.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** The front door whose token check fails with `failure` (what a store outage looks like from here). */
function frontDoor(failure: unknown) {
  const reached: Principal[] = [];
  const authFailures: string[] = [];
  const serverErrors: unknown[] = [];
  const app = createHttpApp({
    publicUrl: 'http://gw.test',
    allowedOrigins: [],
    maxRequestBody: 1024,
    verify: async () => {
      if (failure) throw failure;
      return fakePrincipal();
    },
    onAuthFailure: (error: AuthenticationError) => authFailures.push(error.code),
    resourceMetadata: () => ({ resource: 'http://gw.test/mcp', bearer_methods_supported: ['header'] }),
    mcp: async (c) => {
      reached.push(c.get('principal'));
      return c.json({ jsonrpc: '2.0', id: 1, result: {} });
    },
    health: () => ({ alive: true }),
    readiness: async () => ({ ready: true }),
    onError: (error) => serverErrors.push(error),
    mount: (root) => {
      root.get('/console/approvals', () => {
        throw refused;
      });
      root.get('/console/bug', () => {
        throw new TypeError('bug');
      });
    },
  });
  const post = () =>
    app.request('http://gw.test/mcp', {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } }),
      headers: { host: 'gw.test', 'content-type': 'application/json', authorization: 'Bearer some-token' },
    });
  return { app, post, reached, authFailures, serverErrors };
}

describe('a store outage at the front door', () => {
  it('answers a token that cannot be checked with 503 store.unavailable and Retry-After, not 401, and reaches nothing', async () => {
    const door = frontDoor(refused);
    const response = await door.post();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('www-authenticate')).toBeNull();
    const body = (await response.json()) as {
      jsonrpc: string;
      id: unknown;
      error: { code: number; message: string; data: { code: string; retryAfterMs: number } };
    };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32014, data: { code: 'store.unavailable', retryAfterMs: 2000 } } });
    expect(body.error.message).toMatch(/cannot reach its store/);
    expect(JSON.stringify(body)).not.toMatch(/5432|ECONNREFUSED|invalid_token/);
    expect(door.reached).toEqual([]);
    expect(door.authFailures).toEqual([]);
    expect(door.serverErrors).toEqual([refused]);
  });

  it('answers any other server-side failure of the token check with 500, still not 401', async () => {
    const door = frontDoor(new TypeError('bug'));
    const response = await door.post();
    expect(response.status).toBe(500);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: -32603, data: { code: 'internal' } } });
    expect(door.reached).toEqual([]);
  });

  it('still answers a bad token with 401 invalid_token', async () => {
    const door = frontDoor(new TokenError('auth.invalid_signature'));
    const response = await door.post();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(door.reached).toEqual([]);
  });

  it('answers a page whose store is down with 503 temporarily_unavailable, and a bug on a page with 500', async () => {
    const door = frontDoor(undefined);
    const page = await door.app.request('http://gw.test/console/approvals');
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('2');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String), code: 'store.unavailable' });
    const bug = await door.app.request('http://gw.test/console/bug');
    expect(bug.status).toBe(500);
  });
});

describe('responseStatus', () => {
  const error = (code: string) => ({ jsonrpc: '2.0' as const, id: 1, error: { code: -32014, message: 'm', data: { code } } });
  it('is 503 with Retry-After for a lone store or audit outage', () => {
    expect(responseStatus([error('store.unavailable')], false)).toEqual({ status: 503, headers: { 'retry-after': '2' } });
    expect(responseStatus([error('audit.unavailable')], false)).toEqual({ status: 503, headers: { 'retry-after': '2' } });
  });
  it('is 200 for other errors, results and batches', () => {
    expect(responseStatus([error('rate.limited')], false).status).toBe(200);
    expect(responseStatus([{ jsonrpc: '2.0', id: 1, result: {} }], false).status).toBe(200);
    expect(responseStatus([error('store.unavailable')], true).status).toBe(200);
    expect(responseStatus([error('store.unavailable'), error('store.unavailable')], false).status).toBe(200);
  });
});
