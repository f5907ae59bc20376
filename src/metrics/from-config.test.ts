import { describe, expect, it } from 'vitest';
import type { AuditLog, AuditObserver } from '../audit/index.js';
import { MetricsConfigSchema } from '../config/observability-schema.js';
import type { Logger } from '../log/index.js';
import { metricsFromConfig } from './from-config.js';

function fakes() {
  const observers: AuditObserver[] = [];
  const warnings: unknown[][] = [];
  const audit = { observe: (o: AuditObserver) => observers.push(o) } as unknown as AuditLog;
  const log = { warn: (...args: unknown[]) => warnings.push(args), error: () => undefined, info: () => undefined } as unknown as Logger;
  return { audit, log, observers, warnings, sources: { sessions: () => 0, pendingApprovals: async () => 0 } };
}

describe('metricsFromConfig', () => {
  it('builds nothing and observes nothing when metrics are not configured', async () => {
    const f = fakes();
    expect(await metricsFromConfig(undefined, f)).toBeUndefined();
    expect(f.observers).toHaveLength(0);
  });

  it('listens on loopback port 9464 by default, quietly', async () => {
    const f = fakes();
    const config = MetricsConfigSchema.parse({});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(await metricsFromConfig(config, f)).toBeDefined();
    expect(f.observers).toHaveLength(1);
    expect(f.warnings).toHaveLength(0);
  });

  it('warns when the listener is reachable from other machines', async () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'metrics.internal']) {
      const f = fakes();
      await metricsFromConfig(MetricsConfigSchema.parse({ listen: { host } }), f);
      expect(f.warnings, host).toHaveLength(1);
      expect(String(f.warnings[0]?.[1])).toContain('not on a loopback address');
    }
  });

  it('keeps counting from failing an audit append', async () => {
    const f = fakes();
    const wiring = await metricsFromConfig(MetricsConfigSchema.parse({}), f);
    (wiring?.metrics as unknown as { audited: () => void }).audited = () => {
      throw new Error('broken counter');
    };
    expect(() => f.observers[0]?.appended?.('egress.blocked', {})).not.toThrow();
    expect(f.warnings).toHaveLength(1);
  });

  it('refuses unknown keys and out-of-range values', () => {
    expect(() => MetricsConfigSchema.parse({ listen: { port: 70000 } })).toThrow();
    expect(() => MetricsConfigSchema.parse({ token: 'x' })).toThrow();
    expect(() => MetricsConfigSchema.parse({ maxToolLabels: 0 })).toThrow();
  });
});
