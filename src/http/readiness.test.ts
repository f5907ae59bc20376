import { describe, expect, it } from 'vitest';
import { readinessCheck, type ReadinessDeps, type UpstreamReadiness } from './readiness.js';

const upstream = (name: string, ready: boolean, detail: Record<string, unknown> = {}) => ({ name, status: (): UpstreamReadiness => ({ ready, detail }) });

function deps(overrides: Partial<ReadinessDeps<{ mode: string }>> = {}): ReadinessDeps<{ mode: string }> {
  return {
    probeStorage: async () => undefined,
    auditHealthy: () => true,
    upstreams: () => [upstream('echo', true, { isolation: 'shared' })],
    policies: () => ({ mode: 'access' }),
    ...overrides,
  };
}

describe('readiness', () => {
  it('is ready when storage takes writes, the audit log is healthy and every upstream is ready', async () => {
    expect(await readinessCheck(deps())()).toEqual({
      ready: true,
      storage: true,
      audit: true,
      upstreams: { echo: { ready: true, detail: { isolation: 'shared' } } },
      policies: { mode: 'access' },
    });
  });

  it('is not ready, and says which part, when storage cannot be written (the probe’s error is not shown)', async () => {
    const report = await readinessCheck(deps({ probeStorage: async () => Promise.reject(new Error('SQLITE_READONLY: /secret/path')) }))();
    expect(report).toMatchObject({ ready: false, storage: false, audit: true });
    expect(JSON.stringify(report)).not.toContain('/secret/path');
  });

  it('is not ready when the audit log is unhealthy or any upstream is not ready', async () => {
    expect(await readinessCheck(deps({ auditHealthy: () => false }))()).toMatchObject({ ready: false, audit: false, storage: true });
    const report = await readinessCheck(deps({ upstreams: () => [upstream('echo', true), upstream('db', false, { state: 'restarting' })] }))();
    expect(report).toMatchObject({ ready: false, upstreams: { echo: { ready: true }, db: { ready: false, detail: { state: 'restarting' } } } });
  });

  it('reports the policies in force without making them a condition (a refused reload keeps the old ones)', async () => {
    const report = await readinessCheck(deps({ policies: () => ({ mode: 'cedar', error: { problems: ['x'] } }) as never }))();
    expect(report.ready).toBe(true);
    expect(report.policies).toEqual({ mode: 'cedar', error: { problems: ['x'] } });
  });

  it('asks again on every check', async () => {
    let ready = false;
    const check = readinessCheck(deps({ upstreams: () => [upstream('echo', ready)] }));
    expect((await check()).ready).toBe(false);
    ready = true;
    expect((await check()).ready).toBe(true);
  });
});
