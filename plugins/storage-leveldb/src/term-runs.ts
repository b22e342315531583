/**
 * The term of every log entry, held in memory as runs of equal terms (a term changes only on an
 * election, so a log of thousands of entries is a handful of runs). Lets `term()` answer without a
 * disk read.
 */
export class TermRuns {
  /** First index of each run, ascending. */
  private readonly starts: number[] = [];
  private readonly terms: number[] = [];

  /** The term of `index`, which the caller knows is in the log. */
  at(index: number): number | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    if (hi < 0 || index < this.starts[0]!) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.terms[lo];
  }

  /** Record that entry `index` (the one after the current last) has `term`. */
  push(index: number, term: number): void {
    if (this.terms.length > 0 && this.terms[this.terms.length - 1] === term) return;
    this.starts.push(index);
    this.terms.push(term);
  }

  /** Forget entries at or after `index`. */
  truncateFrom(index: number): void {
    let n = this.starts.length;
    while (n > 0 && this.starts[n - 1]! >= index) n--;
    this.starts.length = n;
    this.terms.length = n;
  }

  /** Forget entries before `index`. */
  dropBefore(index: number): void {
    let drop = 0;
    while (drop + 1 < this.starts.length && this.starts[drop + 1]! <= index) drop++;
    this.starts.splice(0, drop);
    this.terms.splice(0, drop);
    if (this.starts.length > 0 && this.starts[0]! < index) this.starts[0] = index;
  }

  clear(): void {
    this.starts.length = 0;
    this.terms.length = 0;
  }
}
