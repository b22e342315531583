import type { Entry, SnapshotMeta } from '../protocol/raft-types.js';

/** Thrown when Raft's own invariants would be broken: the member must stop, never go on. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

/**
 * The log as the consensus core sees it: everything after the compaction point, in memory.
 * `stabled` is how far the driver has made it durable; `committed` how far a quorum agreed;
 * `applied` how far committed entries were handed out and acknowledged by `advance`.
 */
export class RaftLog {
  /** Index and term of the last entry compacted away (the snapshot point). */
  private offsetIndex: number;
  private offsetTerm: number;
  private entries: Entry[];
  stabled: number;
  committed: number;
  applied: number;

  constructor(snapshot: SnapshotMeta | undefined, entries: readonly Entry[], commit: number, applied: number) {
    this.offsetIndex = snapshot?.index ?? 0;
    this.offsetTerm = snapshot?.term ?? 0;
    const first = entries[0];
    if (first !== undefined && first.index !== this.offsetIndex + 1) {
      throw new RaftInvariantError(`log starts at ${first.index}, expected ${this.offsetIndex + 1} after the snapshot`);
    }
    this.entries = [...entries];
    this.stabled = this.lastIndex();
    // A commit saved beside a log append that never became durable points past the log: the
    // entries it names were not acknowledged by this member, so resuming below it is safe.
    this.committed = Math.min(Math.max(commit, this.offsetIndex), this.lastIndex());
    this.applied = Math.min(Math.max(applied, this.offsetIndex), this.committed);
  }

  firstIndex(): number {
    return this.offsetIndex + 1;
  }

  lastIndex(): number {
    return this.offsetIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** Term of entry `index`, or undefined when it was compacted away or does not exist yet. */
  term(index: number): number | undefined {
    if (index === this.offsetIndex) return this.offsetTerm;
    if (index < this.offsetIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offsetIndex - 1]!.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) up to `maxBytes` of data (always at least one), or undefined when `lo`
   * is at or below the compaction point (a snapshot is needed instead).
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo <= this.offsetIndex) return undefined;
    const end = Math.min(hi, this.lastIndex() + 1);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < end; i++) {
      const e = this.entries[i - this.offsetIndex - 1]!;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Append at the end, replacing any suffix from `entries[0].index` (which must not be committed). */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.index <= this.committed) {
      throw new RaftInvariantError(`entry ${first.index} would overwrite the committed log (commit ${this.committed})`);
    }
    if (first.index > this.lastIndex() + 1) {
      throw new RaftInvariantError(`entry ${first.index} leaves a gap after ${this.lastIndex()}`);
    }
    this.entries.length = first.index - this.offsetIndex - 1;
    for (const e of entries) this.entries.push(e);
    this.stabled = Math.min(this.stabled, first.index - 1);
  }

  /**
   * A follower's append (Raft §5.3): if our entry at `prevIndex` has `prevTerm`, drop whatever
   * conflicts with `entries`, add the new ones, advance commit; return the last index the leader
   * now knows we match, or undefined when the consistency check fails.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    let conflictAt = -1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      // Entries at or below the compaction point are committed, and so match (Log Matching).
      if (e.index <= this.offsetIndex) continue;
      if (!this.matchTerm(e.index, e.term)) {
        conflictAt = i;
        break;
      }
    }
    if (conflictAt >= 0) this.append(entries.slice(conflictAt));
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftInvariantError(`commit ${index} is past the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Committed entries not yet handed out, up to `maxBytes`. */
  nextCommitted(maxBytes = Infinity): Entry[] {
    if (this.committed <= this.applied) return [];
    return this.slice(this.applied + 1, this.committed + 1, maxBytes) ?? [];
  }

  unstable(): Entry[] {
    return this.stabled >= this.lastIndex() ? [] : this.slice(this.stabled + 1, this.lastIndex() + 1)!;
  }

  /** Replace everything with a snapshot's point (the entries it covers are in the state machine). */
  restore(meta: SnapshotMeta): void {
    this.offsetIndex = meta.index;
    this.offsetTerm = meta.term;
    this.entries = [];
    this.stabled = meta.index;
    this.committed = meta.index;
  }

  /** Forget entries up to `index` (already applied and covered by a snapshot). */
  compactTo(index: number): void {
    const upTo = Math.min(index, this.applied, this.lastIndex());
    if (upTo <= this.offsetIndex) return;
    const term = this.term(upTo)!;
    this.entries = this.entries.slice(upTo - this.offsetIndex);
    this.offsetIndex = upTo;
    this.offsetTerm = term;
  }
}
