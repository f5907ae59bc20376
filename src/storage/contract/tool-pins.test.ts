import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import type { NewToolPin, Storage } from '../ports/index.js';

const pin = (digest: string, over: Partial<NewToolPin> = {}): NewToolPin => ({
  server: 's',
  tool: 'a',
  digest,
  definition: `{"name":"a","d":"${digest}"}`,
  state: 'approved',
  reason: 'first-start',
  findings: [],
  firstSeenAt: 1000,
  decidedAt: 1000,
  decidedBy: 'gatehouse',
  ...over,
});

describe.each(BACKENDS)('ToolPinStore ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;

  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

  it('records a definition once; an automatic approval never displaces the approved one', async () => {
    expect(await storage.toolPins.record(pin('d1'))).toBe(true);
    expect(await storage.toolPins.record(pin('d1'))).toBe(false);
    // A second automatic approval for the tool is recorded as a pending change instead.
    expect(await storage.toolPins.record(pin('d2', { firstSeenAt: 2000 }))).toBe(true);
    const { decidedAt: _at, decidedBy: _by, ...undecided } = pin('d2', { firstSeenAt: 2000 });
    expect(await storage.toolPins.forTool('s', 'a')).toEqual([{ ...undecided, state: 'pending', reason: 'changed' }, pin('d1')]);
    expect(await storage.toolPins.approved('s')).toEqual(new Map([['a', 'd1']]));
  });

  it('approving a definition supersedes every other approved or pending one of the tool, atomically', async () => {
    await storage.toolPins.record(pin('d1'));
    await storage.toolPins.record(pin('d2', { state: 'pending', reason: 'changed', firstSeenAt: 2000, decidedAt: undefined, decidedBy: undefined }));
    await storage.toolPins.record(
      pin('d3', { state: 'pending', reason: 'poisoned', findings: ['f1'], firstSeenAt: 3000, decidedAt: undefined, decidedBy: undefined }),
    );
    await storage.toolPins.record(pin('x1', { tool: 'b' }));
    expect(await storage.toolPins.approve('s', 'a', 'nope', 'carol', 4000)).toBe(false);
    expect(await storage.toolPins.approve('s', 'a', 'd2', 'carol', 4000)).toBe(true);
    const rows = await storage.toolPins.forTool('s', 'a');
    expect(rows.map((r) => [r.digest, r.state, r.reason])).toEqual([
      ['d3', 'superseded', 'poisoned'],
      ['d2', 'approved', 'operator'],
      ['d1', 'superseded', 'first-start'],
    ]);
    expect(rows[1]).toMatchObject({ decidedAt: 4000, decidedBy: 'carol' });
    expect(rows[0]?.findings).toEqual(['f1']);
    expect(await storage.toolPins.approved('s')).toEqual(
      new Map([
        ['a', 'd2'],
        ['b', 'x1'],
      ]),
    );
    // A superseded definition seen again is pending again; an approved one seen again is unchanged.
    expect(
      await storage.toolPins.record(pin('d1', { state: 'pending', reason: 'changed', firstSeenAt: 5000, decidedAt: undefined, decidedBy: undefined })),
    ).toBe(true);
    expect((await storage.toolPins.forTool('s', 'a'))[0]).toMatchObject({ digest: 'd1', state: 'pending', reason: 'changed', firstSeenAt: 5000 });
    expect(await storage.toolPins.record(pin('d2', { state: 'pending', reason: 'changed', decidedAt: undefined, decidedBy: undefined }))).toBe(false);
    expect((await storage.toolPins.list()).map((r) => `${r.tool}:${r.digest}`)).toEqual(['a:d1', 'a:d3', 'a:d2', 'b:x1']);
    expect((await storage.toolPins.list('other')).length).toBe(0);
  });

  it('nodes pinning the same first catalog at once: one approved definition, the others pending, no error', async () => {
    const other = await store.another();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? storage : other).toolPins.record(pin(`d${i}`, { firstSeenAt: 1000 + i }))));
    expect(results.every(Boolean)).toBe(true);
    const rows = await storage.toolPins.forTool('s', 'a');
    expect(rows.filter((r) => r.state === 'approved')).toHaveLength(1);
    expect(rows.filter((r) => r.state === 'pending')).toHaveLength(5);
  });

  it('remembers which servers were seen', async () => {
    expect(await storage.toolPins.serverSeen('s')).toBe(false);
    await storage.toolPins.markServerSeen('s', 1);
    await storage.toolPins.markServerSeen('s', 2);
    expect(await storage.toolPins.serverSeen('s')).toBe(true);
    expect(await storage.toolPins.serverSeen('t')).toBe(false);
  });
});
