import { performance } from 'node:perf_hooks';
import type { BenchOptions } from './bench-options.js';
import { LatencyRecorder } from './latency-recorder.js';
import type { MeasuredRun } from './load-run.js';

const MAX_ERROR_SAMPLES = 5;

/**
 * The bookkeeping of one measured phase, for workloads that drive their own calls (streams):
 * when to stop (--total operations issued, or --duration elapsed), latencies of the successful
 * ones, failures counted with a few distinct messages.
 */
export class RunTally {
  private readonly latencies = new LatencyRecorder();
  private readonly errorSamples = new Set<string>();
  private readonly start = performance.now();
  private readonly deadline: number;
  private issued = 0;
  private errors = 0;

  constructor(private readonly options: BenchOptions) {
    this.deadline = options.durationSec === undefined ? Infinity : this.start + options.durationSec * 1000;
  }

  /** True while another operation may be issued; counts it as issued. */
  issue(): boolean {
    const more = this.options.total !== undefined ? this.issued < this.options.total : performance.now() < this.deadline;
    if (more) this.issued++;
    return more;
  }

  succeeded(sentAt: number): void {
    this.latencies.record(performance.now() - sentAt);
  }

  failed(message: string): void {
    this.errors++;
    if (this.errorSamples.size < MAX_ERROR_SAMPLES) this.errorSamples.add(message);
  }

  result(): MeasuredRun {
    return { latencies: this.latencies.sorted(), errors: this.errors, errorSamples: [...this.errorSamples], elapsedMs: performance.now() - this.start };
  }
}
