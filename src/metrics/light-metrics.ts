import type { Metric, Registry } from 'prom-client';

/**
 * Metrics recorded on every call, several times per call (one histogram sample per stage), are
 * kept here rather than in prom-client's own Histogram and Counter: those validate and hash the
 * label set on every observation, which costs more than the stages being measured. Here a
 * series is looked up once (the stage's child is bound when the pipeline is composed) and an
 * observation is a bucket search and three additions, without allocating. The registry still
 * formats them: each class gives prom-client the `get()` it reads at scrape time.
 */

/** One label set's buckets (not cumulative: a sample counts in its own bucket only), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

interface Sample {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** A histogram with one label. */
export class LightHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label value (created on first use, then the same object). */
  series(labelValue: string): HistogramSeries {
    let series = this.#series.get(labelValue);
    if (!series) this.#series.set(labelValue, (series = new HistogramSeries({ [this.labelName]: labelValue }, this.bounds)));
    return series;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i] as number;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        values.push({ value: cumulative, labels: { ...series.labels, le }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: series.sum, labels: { ...series.labels }, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels: { ...series.labels }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }
}

interface CounterSeries {
  labels: Record<string, string>;
  value: number;
}

type CounterLevel = Map<string, CounterLevel | CounterSeries>;

/** A counter over a fixed list of labels, incremented with the label values in that order. */
export class LightCounter<L extends string> {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  // One map level per label: no key is built from the values, so no two label sets can collide
  // whatever characters a value holds.
  readonly #root: CounterLevel = new Map();
  readonly #all: CounterSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** Adds one to the series of these label values (given in the order of the label names). */
  inc(...values: string[]): void {
    let level = this.#root;
    const last = this.labelNames.length - 1;
    for (let i = 0; i < last; i++) {
      const value = values[i] ?? '';
      let next = level.get(value) as CounterLevel | undefined;
      if (!next) level.set(value, (next = new Map()));
      level = next;
    }
    const leaf = values[last] ?? '';
    let series = level.get(leaf) as CounterSeries | undefined;
    if (!series) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      series = { labels, value: 0 };
      level.set(leaf, series);
      this.#all.push(series);
    }
    series.value++;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values = this.#all.map((s) => ({ value: s.value, labels: { ...s.labels } }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#root.clear();
    this.#all.length = 0;
  }
}
