import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../../test/helpers/prometheus-text.js';
import { LightCounter, LightHistogram } from './light-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

describe('LightHistogram', () => {
  it('exposes exactly what prom-client’s own Histogram exposes for the same samples', async () => {
    const light = new Registry();
    const reference = new Registry();
    const mine = new LightHistogram('h_seconds', 'help text', 'stage', BOUNDS, light);
    const theirs = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['stage'], buckets: BOUNDS, registers: [reference] });
    const samples: [string, number][] = [
      ['authorize', 0.0005],
      ['authorize', 0.001],
      ['authorize', 0.05],
      ['execute', 2],
      ['execute', 0.3],
      ['authorize', 0],
    ];
    for (const [stage, value] of samples) {
      mine.series(stage).observe(value);
      theirs.labels(stage).observe(value);
    }
    const key = (x: { name: string; labels: Record<string, string> }) => `${x.name}${JSON.stringify(Object.entries(x.labels).sort())}`;
    const sorted = (text: string) =>
      parseExposition(text)
        .map((x) => ({ key: key(x), value: x.value }))
        .sort((a, b) => a.key.localeCompare(b.key));
    expect(sorted(await light.metrics())).toEqual(sorted(await reference.metrics()));
    const s = parseExposition(await light.metrics());
    // A value equal to a bound counts in that bound's bucket (le: less than or equal).
    expect(sampleValue(s, 'h_seconds_bucket', { stage: 'authorize', le: '0.001' })).toBe(3);
    expect(sampleValue(s, 'h_seconds_bucket', { stage: 'execute', le: '+Inf' })).toBe(2);
    expect(sampleValue(s, 'h_seconds_count', { stage: 'execute' })).toBe(2);
    expect(await light.metrics()).toContain('# TYPE h_seconds histogram');
  });

  it('hands out one series object per label value', () => {
    const h = new LightHistogram('x_seconds', 'x', 'server', BOUNDS, new Registry());
    expect(h.series('a')).toBe(h.series('a'));
    expect(h.series('a')).not.toBe(h.series('b'));
  });
});

describe('LightCounter', () => {
  it('counts per label set and keeps label sets apart whatever characters their values hold', async () => {
    const registry = new Registry();
    const c = new LightCounter('calls_total', 'calls', ['server', 'tool'], registry);
    c.inc('a\nb', 'c');
    c.inc('a', 'b\nc');
    c.inc('a', 'b\nc');
    c.inc('s', 't"}x 9');
    const s = parseExposition(await registry.metrics());
    expect(s).toHaveLength(3);
    const text = await registry.metrics();
    expect(text).toContain('calls_total{server="a\\nb",tool="c"} 1');
    expect(text).toContain('calls_total{server="a",tool="b\\nc"} 2');
    // A quote in a value is escaped: it cannot end the label set and forge a sample.
    expect(text).toContain('calls_total{server="s",tool="t\\"}x 9"} 1');
    expect(text).toContain('# TYPE calls_total counter');
  });
});
