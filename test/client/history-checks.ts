/**
 * Checks of recorded histories (pure functions, so a failing fault test says exactly what went
 * wrong): watch event sequences against revisions, and critical sections against each other.
 */

/** One delivered watch event reduced to what the checks compare. */
export interface SeenEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: string;
  readonly revision: bigint;
}

/**
 * Problems in a sequence that must hold exactly one event per revision from `first` to `last`
 * (when every revision in that range changed one key of the watched prefix): gaps, duplicates,
 * events out of order. Empty when the sequence is exact.
 */
export function revisionSequenceProblems(events: readonly SeenEvent[], first: bigint, last: bigint): string[] {
  const problems: string[] = [];
  let expected = first;
  for (const [i, e] of events.entries()) {
    if (e.revision === expected) {
      expected++;
      continue;
    }
    if (e.revision < expected) problems.push(`event #${i} at revision ${e.revision} again or out of order (expected ${expected})`);
    else {
      problems.push(`revisions ${expected}..${e.revision - 1n} missing before event #${i}`);
      expected = e.revision + 1n;
    }
    if (problems.length >= 20) break;
  }
  if (problems.length === 0 && expected !== last + 1n) problems.push(`the sequence ends at revision ${expected - 1n}, the history at ${last}`);
  return problems;
}

/** A critical section as a holder recorded it: from the lock granted to the release sent. */
export interface Section {
  readonly holder: string;
  readonly token: bigint;
  readonly start: number;
  readonly end: number;
}

/** Pairs of sections whose intervals intersect (sorted by start; touching ends do not count). */
export function overlappingSections(sections: readonly Section[]): [Section, Section][] {
  const sorted = [...sections].sort((a, b) => a.start - b.start);
  const found: [Section, Section][] = [];
  let latest: Section | undefined;
  for (const s of sorted) {
    if (latest !== undefined && s.start < latest.end) found.push([latest, s]);
    if (latest === undefined || s.end > latest.end) latest = s;
  }
  return found;
}

/** Percentile `p` (0..100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
