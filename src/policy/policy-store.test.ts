import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/index.js';
import { principal, STARTER_POLICIES as STARTER } from '../../test/helpers/policy-fixtures.js';
import { PolicyStore, type PolicyEvent } from './policy-store.js';
import type { AuthzRequest } from './types.js';

const settings = { timeZone: 'UTC', destructiveTools: 'four-eyes' as const };
const addCall = (sub: string, groups: string[]): AuthzRequest => ({
  principal: principal(sub, groups),
  action: 'call',
  server: 'echo',
  kind: 'tool',
  id: 'echo__add',
  args: {},
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-store-'));
  cpSync(STARTER, dir, { recursive: true });
  return dir;
}

describe('PolicyStore', () => {
  it('refuses to open a folder that does not load', () => {
    const dir = folder();
    writeFileSync(path.join(dir, '99-bad.cedar'), 'permit(principal, action resource);');
    expect(() => PolicyStore.open(dir, settings, silentLogger())).toThrow(/99-bad\.cedar:1:\d+/);
  });

  it('swaps in a changed folder on reload and reports it', () => {
    const dir = folder();
    const events: PolicyEvent[] = [];
    const store = PolicyStore.open(dir, settings, silentLogger(), (e) => events.push(e));
    expect(store.authorizer.decide(addCall('bob', ['qa'])).effect).toBe('deny');
    writeFileSync(path.join(dir, '60-qa.cedar'), '@id("qa-echo") permit(principal in Group::"qa", action == Action::"call", resource in Server::"echo");');
    expect(store.reload()).toBe(true);
    expect(store.authorizer.decide(addCall('bob', ['qa']))).toMatchObject({ effect: 'allow', policy: 'qa-echo' });
    expect(events.map((e) => e.kind)).toEqual(['loaded', 'loaded']);
    expect(store.reload()).toBe(false); // unchanged: no swap
  });

  it('keeps the old policies when a reload hits a syntax error, and reports the error in status until fixed', () => {
    const dir = folder();
    const events: PolicyEvent[] = [];
    const store = PolicyStore.open(dir, settings, silentLogger(), (e) => events.push(e));
    const before = store.authorizer;
    writeFileSync(path.join(dir, '20-echo-server.cedar'), 'permit(principal in Group::"eng", action == Action::"call" resource in Server::"echo");');
    expect(store.reload()).toBe(false);
    expect(store.authorizer).toBe(before);
    expect(store.authorizer.decide(addCall('alice', ['eng']))).toMatchObject({ effect: 'allow', policy: 'eng-call-echo' });
    expect(store.status().error?.problems[0]).toMatch(/^20-echo-server\.cedar:1:\d+: /);
    expect(events.at(-1)).toMatchObject({ kind: 'refused' });
    writeFileSync(
      path.join(dir, '20-echo-server.cedar'),
      '@id("eng-call-echo-2") permit(principal in Group::"eng", action == Action::"call", resource in Server::"echo");',
    );
    expect(store.reload()).toBe(true);
    expect(store.status().error).toBeUndefined();
    expect(store.authorizer.decide(addCall('alice', ['eng']))).toMatchObject({ effect: 'allow', policy: 'eng-call-echo-2' });
  });

  it('watches the folder: a saved file is picked up without a restart', async () => {
    const dir = folder();
    const store = PolicyStore.open(dir, settings, silentLogger());
    store.watch(20);
    try {
      writeFileSync(path.join(dir, '60-qa.cedar'), 'permit(principal in Group::"qa", action == Action::"call", resource in Server::"echo");');
      const deadline = Date.now() + 5000;
      while (store.authorizer.decide(addCall('bob', ['qa'])).effect !== 'allow') {
        if (Date.now() > deadline) throw new Error('the watcher did not reload the folder');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(store.status().files).toContain('60-qa.cedar');
    } finally {
      store.close();
    }
  });
});
