import { describe, expect, it } from 'vitest';
import { exchangeClients, TOKEN_EXCHANGE_GRANT } from './token-exchange.js';

const client = (clientId: string, grantTypes: ('authorization_code' | 'refresh_token' | typeof TOKEN_EXCHANGE_GRANT)[]) => ({
  clientId,
  redirectUris: ['https://x.example/cb'],
  grantTypes,
  dpopBoundAccessTokens: false,
});

describe('which clients may exchange tokens', () => {
  it('only listed ids and pre-registered clients configured with the grant; nobody by default', () => {
    expect([...exchangeClients({ clients: [], tokenExchange: { clients: [] } })]).toEqual([]);
    const allowed = exchangeClients({
      clients: [client('sub-agent', [TOKEN_EXCHANGE_GRANT]), client('dashboard', ['authorization_code', 'refresh_token'])],
      tokenExchange: { clients: ['reviewed-dcr-client'] },
    });
    expect([...allowed].sort()).toEqual(['reviewed-dcr-client', 'sub-agent']);
    // A pre-registered client without the grant, and any client nobody named, are not allowed.
    expect(allowed.has('dashboard')).toBe(false);
    expect(allowed.has('some-registered-client')).toBe(false);
  });
});
