import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL } from '../helpers/gateway-harness.js';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.js';

describe('the gateway serves /connections behind the browser sign-in', () => {
  let gw: VaultGateway;
  beforeAll(async () => {
    gw = await vaultGateway({ servers: {} }, {});
  });
  afterAll(async () => gw?.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    gw.assembly.app.request(`${PUBLIC_URL}${path}`, { headers: { host: new URL(PUBLIC_URL).host, ...headers } });

  it('sends a visitor to sign in and comes back to the page it asked for', async () => {
    const res = await get('/connections?server=items');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') as string, PUBLIC_URL);
    expect(location.searchParams.get('return_to')).toBe('/connections');
  });

  it('refuses an agent token, a foreign Host, and a cross-origin form post without changing anything', async () => {
    const agent = await get('/connections', { authorization: 'Bearer abc' });
    expect(agent.status).toBe(401);
    expect((await get('/connections', { host: 'evil.test' })).status).toBe(403);
    const post = await gw.assembly.app.request(`${PUBLIC_URL}/connections/connect`, {
      method: 'POST',
      headers: { host: new URL(PUBLIC_URL).host, origin: 'http://evil.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'server=items&csrf=x',
    });
    expect(post.status).toBe(403);
    expect(await gw.assembly.storage.connections.list()).toEqual([]);
    expect(gw.assembly.connections.servers).toEqual([]);
  });

  it('an unknown callback state connects nothing', async () => {
    const res = await get('/connections/callback?code=abc&state=unknown');
    // Not signed in: sign-in first, the state is only looked at for the person who started it.
    expect(res.status).toBe(303);
    expect(await gw.assembly.storage.connections.list()).toEqual([]);
  });
});
