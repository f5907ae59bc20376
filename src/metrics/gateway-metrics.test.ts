import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../../test/helpers/prometheus-text.js';
import { RateLimitedError } from '../errors/index.js';
import { silentLogger } from '../log/index.js';
import { MemoryRateLimitStore } from '../ratelimit/index.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { MeteredCallLimits } from './metered-call-limits.js';
import { MetricsServer } from './metrics-server.js';

const metricsWith = () => new GatewayMetrics({ sessions: () => 0, pendingApprovals: async () => 0 }, { maxToolLabels: 10 });
const samplesOf = async (m: GatewayMetrics) => parseExposition(await m.exposition());

describe('GatewayMetrics from audit records', () => {
  it('counts egress blocks by address class and code, without host or address', async () => {
    const m = metricsWith();
    m.audited('egress.blocked', {
      egress: { purpose: 'http server invoices', host: 'internal.corp.example', address: '10.1.2.3', class: 'private', via: 'redirect' },
      outcome: { status: 'denied', code: 'egress.address_refused' },
    });
    m.audited('egress.blocked', { egress: { class: 'private' }, outcome: { status: 'denied', code: 'egress.address_refused' } });
    const text = await m.exposition();
    expect(sampleValue(parseExposition(text), 'gatehouse_egress_blocked_total', { class: 'private', code: 'egress.address_refused' })).toBe(2);
    expect(text).not.toContain('internal.corp.example');
    expect(text).not.toContain('10.1.2.3');
  });

  it('counts redactions by type and channel, from call results and from other messages', async () => {
    const m = metricsWith();
    m.audited('call.result', { actor: { sub: 'alice' }, notes: { sanitize: { channel: 'result', redactions: { vault: 2, email: 1 } } } });
    m.audited('output.redacted', { sanitize: { channel: 'notification', redactions: { aws_access_key: 1 } } });
    // Records without a report, and other kinds, count nothing.
    m.audited('call.result', { actor: { sub: 'alice' }, outcome: { status: 'ok' } });
    m.audited('call.intent', { notes: { sanitize: { channel: 'result', redactions: { vault: 9 } } } });
    const s = await samplesOf(m);
    expect(sampleValue(s, 'gatehouse_redactions_total', { type: 'vault', channel: 'result' })).toBe(2);
    expect(sampleValue(s, 'gatehouse_redactions_total', { type: 'email', channel: 'result' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_redactions_total', { type: 'aws_access_key', channel: 'notification' })).toBe(1);
    expect(s.filter((x) => x.name === 'gatehouse_redactions_total')).toHaveLength(3);
    expect(s.some((x) => Object.values(x.labels).includes('alice'))).toBe(false);
  });

  it('ignores report shapes it does not know instead of throwing (an observer must never fail an append)', async () => {
    const m = metricsWith();
    for (const body of [
      { notes: { sanitize: null } },
      { notes: { sanitize: { redactions: 'x' } } },
      { notes: { sanitize: { redactions: { vault: -1, t: 'y' } } } },
    ]) {
      expect(() => m.audited('call.result', body as never)).not.toThrow();
    }
    expect((await samplesOf(m)).some((x) => x.name === 'gatehouse_redactions_total')).toBe(false);
  });

  it('records audit commit latency and batch sizes', async () => {
    const m = metricsWith();
    m.auditCommitted(5, 0.002, true);
    m.auditCommitted(1, 0.001, true);
    m.auditCommitted(3, 0.5, false);
    const s = await samplesOf(m);
    expect(sampleValue(s, 'gatehouse_audit_commit_duration_seconds_count', { result: 'ok' })).toBe(2);
    expect(sampleValue(s, 'gatehouse_audit_commit_duration_seconds_count', { result: 'failed' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_audit_batch_records_sum')).toBe(6);
    expect(sampleValue(s, 'gatehouse_audit_batch_records_bucket', { le: '4' })).toBe(1);
  });
});

describe('MeteredCallLimits', () => {
  it('counts each refusal by the limit that refused, and passes the refusal on', async () => {
    const refused: string[] = [];
    const limits = new MeteredCallLimits(
      [
        { user: { burst: { points: 2, windowMs: 60_000 } }, tool: { burst: { points: 1, windowMs: 60_000 } }, client: {}, tools: {} },
        new MemoryRateLimitStore(),
      ],
      (limit) => refused.push(limit),
    );
    await limits.takeRequest({ sub: 'alice', clientId: 'c' });
    await limits.takeTarget({ sub: 'alice', target: 'echo__add' });
    await expect(limits.takeTarget({ sub: 'alice', target: 'echo__add' })).rejects.toBeInstanceOf(RateLimitedError);
    await limits.takeRequest({ sub: 'alice', clientId: 'c' });
    await expect(limits.takeRequest({ sub: 'alice', clientId: 'c' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(refused).toEqual(['tool.burst', 'user.burst']);
  });
});

describe('MetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.close());

  it('serves GET /metrics in the Prometheus text format and nothing else', async () => {
    const m = metricsWith();
    m.rateLimited('user.burst');
    server = new MetricsServer(m, silentLogger());
    const port = await server.listen('127.0.0.1', 0);
    const base = `http://127.0.0.1:${port}`;
    const ok = await fetch(`${base}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sampleValue(parseExposition(await ok.text()), 'gatehouse_rate_limited_total', { limit: 'user.burst' })).toBe(1);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(await post.text()).not.toContain('gatehouse_');
    for (const path of ['/', '/mcp', '/metrics/', '/healthz', '/metricsx']) {
      const other = await fetch(`${base}${path}`);
      expect(other.status, path).toBe(404);
      expect(await other.text(), path).not.toContain('gatehouse_');
    }
  });

  it('refuses to start on a port that is taken, and closes cleanly', async () => {
    server = new MetricsServer(metricsWith(), silentLogger());
    const port = await server.listen('127.0.0.1', 0);
    const second = new MetricsServer(metricsWith(), silentLogger());
    await expect(second.listen('127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await server.close();
    server = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
