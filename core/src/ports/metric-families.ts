import { Counter, Histogram, type Aggregator, type MetricType, type Registry } from 'prom-client';

/**
 * Metric families for hot paths (every request, every apply): each series is a plain object the
 * recorder keeps and bumps, with no label hashing and no allocation per observation; prom-client
 * reads the series only when the registry is scraped. prom-client's own `inc`/`observe` hash the
 * labels and allocate on every call, which a put path would pay thousands of times a second.
 */

type Labels<L extends string> = Readonly<Record<L, string>>;
type ExportedValue = { value: number; labels: Record<string, string | number>; metricName?: string };

/** One counter series: bump `value` (or call inc) on the hot path. */
export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

/** One histogram series: counts per bucket (not cumulative), their sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    // Past the last bound: only +Inf (the count) holds it.
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** Label pairs sorted by name, as Go's client prints them (so a scrape reads like etcd's). */
function sortedLabels(labels: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) sorted[name] = labels[name]!;
  return sorted;
}

/** A series key: label values in label-name order (names are fixed per family). */
const keyOf = (labels: Record<string, string>, names: readonly string[]): string => names.map((n) => labels[n] ?? '').join('\u0000');

interface FamilyOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

/** Series values are current at every scrape: there is nothing to gather first. */
const nothingToCollect = (): void => undefined;

/** A prom-client Counter whose values are read from the family's series at scrape time. */
class SeriesCounter extends Counter<string> {
  // Fields prom-client sets that its type definitions leave out.
  declare readonly name: string;
  declare readonly help: string;
  declare readonly type: MetricType;
  declare readonly aggregator: Aggregator;
  /** Set after super(): prom-client's constructor calls reset() before subclass fields exist. */
  private readonly family: { values(): ExportedValue[]; zero(): void } | undefined;

  constructor(options: FamilyOptions<string>, family: { values(): ExportedValue[]; zero(): void }) {
    super({ name: options.name, help: options.help, labelNames: [...(options.labelNames ?? [])], registers: [] });
    this.family = family;
  }

  override async get(): Promise<Awaited<ReturnType<Counter<string>['get']>>> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.family?.values() ?? [], collect: nothingToCollect };
  }

  override reset(): void {
    super.reset();
    this.family?.zero();
  }
}

/** A prom-client Histogram whose buckets are read from the family's series at scrape time. */
class SeriesHistogram extends Histogram<string> {
  declare readonly name: string;
  declare readonly help: string;
  declare readonly type: MetricType;
  declare readonly aggregator: Aggregator;
  private readonly family: { values(): ExportedValue[]; zero(): void } | undefined;

  constructor(options: FamilyOptions<string> & { buckets: readonly number[] }, family: { values(): ExportedValue[]; zero(): void }) {
    super({ name: options.name, help: options.help, labelNames: [...(options.labelNames ?? [])], buckets: [...options.buckets], registers: [] });
    this.family = family;
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.family?.values() ?? [], collect: nothingToCollect };
  }

  /** The registry formats a histogram through this when it has one (prom-client 15): answer from the series too. */
  getForPromString(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.get();
  }

  override reset(): void {
    super.reset();
    this.family?.zero();
  }
}

/**
 * A counter family (name, help, label names) whose series live in this object. Ask for a series
 * once (at setup, or when a peer first appears) and keep it: asking costs a map lookup.
 * A series shows from when it is first asked for, at zero — ask at setup for series that should
 * show before anything happened (as go-grpc-prometheus does for every method and code).
 */
export class CounterFamily<L extends string = never> {
  private readonly series = new Map<string, { labels: Record<string, string>; series: CounterSeries }>();
  private readonly labelNames: readonly L[];
  private readonly metric: SeriesCounter;

  constructor(options: FamilyOptions<L>) {
    this.labelNames = options.labelNames ?? [];
    this.metric = new SeriesCounter(options, {
      values: () => [...this.series.values()].map((s) => ({ labels: s.labels, value: s.series.value })),
      zero: () => {
        for (const s of this.series.values()) s.series.value = 0;
      },
    });
  }

  /** The series of `labels` (created at zero on first ask). */
  of(labels: Labels<L>): CounterSeries {
    const key = keyOf(labels, this.labelNames);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: sortedLabels(labels), series: new CounterSeries() };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  /** Show this family on `registry` (a member's; once per registry). */
  register(registry: Registry): void {
    registry.registerMetric(this.metric);
  }
}

/** A histogram family whose series live in this object (see CounterFamily). `buckets`: upper bounds, ascending. */
export class HistogramFamily<L extends string = never> {
  private readonly series = new Map<string, { labels: Record<string, string>; series: HistogramSeries }>();
  private readonly labelNames: readonly L[];
  private readonly buckets: readonly number[];
  private readonly metric: SeriesHistogram;

  constructor(options: FamilyOptions<L> & { readonly buckets: readonly number[] }) {
    this.labelNames = options.labelNames ?? [];
    this.buckets = [...options.buckets];
    this.metric = new SeriesHistogram(options, { values: () => this.values(), zero: () => this.zero() });
  }

  of(labels: Labels<L>): HistogramSeries {
    const key = keyOf(labels, this.labelNames);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: sortedLabels(labels), series: new HistogramSeries(this.buckets) };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  register(registry: Registry): void {
    registry.registerMetric(this.metric);
  }

  /** Cumulative `_bucket` lines (le), then `_sum` and `_count`, per series: the exposition format's histogram. */
  private values(): ExportedValue[] {
    const name = this.metric.name;
    const out: ExportedValue[] = [];
    for (const { labels, series } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += series.counts[i]!;
        out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: this.buckets[i]! }, value: cumulative });
      }
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: series.count });
      out.push({ metricName: `${name}_sum`, labels, value: series.sum });
      out.push({ metricName: `${name}_count`, labels, value: series.count });
    }
    return out;
  }

  private zero(): void {
    for (const { series } of this.series.values()) series.zero();
  }
}

/** etcd's exponential buckets: `count` upper bounds from `start`, each `factor` times the last. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const bounds: number[] = [];
  for (let i = 0, bound = start; i < count; i++, bound *= factor) bounds.push(bound);
  return bounds;
}

/** A member ID as etcd prints it in metric labels (Go's types.ID: hex without leading zeros). */
export function memberIdLabel(id: string): string {
  return /^[0-9a-fA-F]+$/.test(id) ? BigInt(`0x${id}`).toString(16) : id;
}
