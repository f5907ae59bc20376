import { describe, expect, it } from 'vitest';
import { actorOf, anonymousActor, namedActor, targetOf } from './records.js';

describe('audit record parts', () => {
  it('describes a token holder the same way everywhere, with the actor chain only when there is one', () => {
    const who = { sub: 'alice', groups: ['eng'], clientId: 'cursor', jti: 't1', act: [] };
    expect(actorOf(who, { sessionId: 's1', ip: '10.0.0.1' })).toEqual({
      sub: 'alice',
      groups: ['eng'],
      client: 'cursor',
      session: 's1',
      ip: '10.0.0.1',
      jti: 't1',
    });
    expect(actorOf({ ...who, act: ['agent-a'] })).toMatchObject({ act: ['agent-a'], session: undefined });
    expect(actorOf({ sub: 'bob' })).not.toHaveProperty('groups');
  });

  it('names operators and unknown callers without inventing token facts', () => {
    expect(namedActor('ops', { ip: '127.0.0.1' })).toEqual({ sub: 'ops', ip: '127.0.0.1' });
    expect(anonymousActor('203.0.113.9')).toEqual({ sub: '-', ip: '203.0.113.9' });
  });

  it('puts the qualified id under the field of its kind', () => {
    expect(targetOf({ server: 'fs', kind: 'tool', id: 'fs__read' })).toEqual({ server: 'fs', tool: 'fs__read' });
    expect(targetOf({ server: 'fs', kind: 'prompt', id: 'fs__p' })).toEqual({ server: 'fs', prompt: 'fs__p' });
    expect(targetOf({ server: 'fs', kind: 'resource', id: 'file:///a' })).toEqual({ server: 'fs', resource: 'file:///a' });
    expect(targetOf({ server: '*', kind: 'server', id: 'tools/list' })).toEqual({ server: '*' });
  });
});
