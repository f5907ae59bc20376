import { describe, expect, it } from 'vitest';
import { AuditUnavailableError, GatehouseError, OutcomeUnrecordedError, RpcCode } from './index.js';
import { StoreUnavailableError, storeUnavailableFrom } from './store-unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('storeUnavailableFrom', () => {
  it.each([
    ['a refused connect', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['PostgreSQL shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['PostgreSQL starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['node-postgres losing its connection', new Error('Connection terminated unexpectedly')],
    ['node-postgres pool timeout', new Error('timeout exceeded when trying to connect')],
    ['ioredis with the connection closed', new Error('Connection is closed.')],
    ['happy eyeballs: every address refused', Object.assign(new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')]), {})],
    ['the storage cannot be opened', new GatehouseError('storage.unavailable', 'x', 503, RpcCode.InternalError)],
    ['an audit write whose cause is a refused connect', new AuditUnavailableError({ cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
  ])('recognises %s', (_name, error) => {
    const found = storeUnavailableFrom(error);
    expect(found).toBeInstanceOf(StoreUnavailableError);
    expect(found?.code).toBe('store.unavailable');
    expect(found?.status).toBe(503);
    expect(found?.rpcCode).toBe(RpcCode.StoreUnavailable);
    expect(found?.data).toEqual({ retryAfterMs: 2000 });
    // The client-facing message names no host, port or driver text.
    expect(found?.message).not.toMatch(/5432|127\.0\.0\.1|ECONN|Connection/);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a constraint violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error in SQL', withCode('syntax error at or near "SELEC"', '42601')],
    ['an audit failure for another reason', new AuditUnavailableError({ cause: new Error('disk full') })],
    ['a message that merely contains the words', new Error('user said: Connection terminated unexpectedly')],
    ['an AggregateError with one non-network error', new AggregateError([withCode('a', 'ECONNREFUSED'), new Error('other')])],
    ['a call that ran but whose outcome could not be recorded', new OutcomeUnrecordedError({ cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
    ['a refusal of its own whose cause is a refused connect', new GatehouseError('policy.denied', 'no', 403, -32003, { cause: withCode('x', 'ECONNREFUSED') })],
    ['nothing', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('leaves %s alone', (_name, error) => {
    expect(storeUnavailableFrom(error)).toBeUndefined();
  });

  it('stops following a cyclic cause chain', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(storeUnavailableFrom(a)).toBeUndefined();
  });
});
