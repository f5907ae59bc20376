import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import type { Broker, EntitledCall, LeaseRequest } from '../../vault/index.js';
import { brokerStage, PURPOSE_META_KEY } from './broker.js';

/** The broker as the stage sees it: which servers it mints for, and the calls it was asked to entitle. */
function fakeBroker(servers: string[]): Broker & { attached: LeaseRequest[] } {
  const attached: LeaseRequest[] = [];
  return {
    attached,
    handles: (server: string) => servers.includes(server),
    attach(call: EntitledCall, request: LeaseRequest) {
      attached.push(request);
      call.credential = { request, lease: undefined };
    },
  } as unknown as Broker & { attached: LeaseRequest[] };
}

describe('broker stage', () => {
  it('entitles a call to a server with just-in-time credentials, for its actor and purpose, and mints nothing itself', async () => {
    const broker = fakeBroker(['db']);
    const call = fakeCall({ op: { server: 'db', name: 'query', id: 'db__query' } });
    const next = fakeNext();
    await brokerStage(broker).run(call, next);
    expect(next.calls).toBe(1);
    expect(broker.attached).toEqual([{ actor: { sub: 'alice', groups: ['eng'] }, connector: 'db', purpose: 'db__query', requestId: 'req-1' }]);
    expect(call.credential).toEqual({ request: broker.attached[0], lease: undefined });
    expect(call.notes).toEqual({});
  });

  it('carries the client’s stated purpose, stripped of control characters and capped', async () => {
    const broker = fakeBroker(['db']);
    const stated = `fix\u0000ticket\n42${'x'.repeat(300)}`;
    const call = fakeCall({ op: { server: 'db', id: 'db__query' }, params: { name: 'query', arguments: {}, _meta: { [PURPOSE_META_KEY]: stated } } });
    await brokerStage(broker).run(call, fakeNext());
    const purpose = broker.attached[0]?.purpose ?? '';
    expect(purpose.startsWith('db__query (stated: fix ticket 42')).toBe(true);
    expect(purpose).not.toMatch(/[\u0000-\u001f]/);
    expect(purpose.length).toBe('db__query (stated: '.length + 200 + 1);
  });

  it('leaves calls to other servers, and lists, without a credential', async () => {
    const broker = fakeBroker(['db']);
    const other = fakeCall();
    await brokerStage(broker).run(other, fakeNext());
    const list = fakeCall({ op: { method: 'tools/list', action: 'list', kind: 'server', server: 'db' } });
    await brokerStage(broker).run(list, fakeNext());
    expect(broker.attached).toEqual([]);
    expect(other.credential).toBeUndefined();
    expect(list.credential).toBeUndefined();
  });
});
