/** Latencies in milliseconds, kept in growing typed-array blocks so millions cost little. */
export class LatencyRecorder {
  private static readonly BLOCK = 65536;
  private readonly blocks: Float64Array[] = [];
  private used = LatencyRecorder.BLOCK;
  count = 0;

  record(ms: number): void {
    if (this.used === LatencyRecorder.BLOCK) {
      this.blocks.push(new Float64Array(LatencyRecorder.BLOCK));
      this.used = 0;
    }
    this.blocks[this.blocks.length - 1]![this.used++] = ms;
    this.count++;
  }

  /** Sorted copy of everything recorded. */
  sorted(): Float64Array {
    const all = new Float64Array(this.count);
    let at = 0;
    for (const [i, block] of this.blocks.entries()) {
      const n = i === this.blocks.length - 1 ? this.used : block.length;
      all.set(block.subarray(0, n), at);
      at += n;
    }
    return all.sort();
  }
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of a sorted sample (all 0 when empty). */
export function summarize(sorted: Float64Array): LatencySummary {
  if (sorted.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}
