import type { Entry, MemberId } from '../../protocol/raft-types.js';

/** A broken Raft safety property, with what showed it. */
export class SafetyViolation extends Error {
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
    this.name = 'SafetyViolation';
  }
}

const dataKey = (e: Entry): string => `${e.type}:${Buffer.from(e.data).toString('base64')}`;

/**
 * Raft's safety properties, checked as the cluster runs:
 * - election safety: at most one leader per term;
 * - log matching: entries with the same index and term hold the same data and follow the same
 *   previous term (so, by induction, the logs are identical up to there);
 * - leader completeness: an entry known committed is in the log of every later leader;
 * - state machine safety: every member applies the same thing at each index;
 * - durability: a member never loses entries it acknowledged to the leader of its term.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, MemberId>();
  /** "index:term" → "prevTerm|data" of the first entry seen there. */
  private readonly entriesSeen = new Map<string, string>();
  /** index → term and the term in which the commit was first observed. */
  private readonly committed = new Map<number, { term: number; seenInTerm: number }>();
  private maxCommitted = 0;
  private readonly applied = new Map<number, { member: MemberId; what: string }>();
  violation: SafetyViolation | undefined;

  /** Keeps the first violation, and throws it so the run stops there. */
  private fail(property: string, detail: string): never {
    this.violation ??= new SafetyViolation(property, detail);
    throw this.violation;
  }

  leaderElected(member: MemberId, term: number): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== member) {
      this.fail('election safety', `term ${term} has two leaders: ${other} and ${member}`);
    }
    this.leaders.set(term, member);
  }

  /** Entries a member appended, with the term of the entry just before them. */
  appended(member: MemberId, prevTerm: number, entries: readonly Entry[]): void {
    let prev = prevTerm;
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const value = `${prev}|${dataKey(e)}`;
      const seen = this.entriesSeen.get(key);
      if (seen === undefined) {
        this.entriesSeen.set(key, value);
      } else if (seen !== value) {
        this.fail('log matching', `member ${member} holds a different entry at index ${e.index} term ${e.term} (or after a different previous term)`);
      }
      prev = e.term;
    }
  }

  /** A member reports index committed with entry term `term`, while in `currentTerm`. */
  committedEntry(member: MemberId, index: number, term: number, currentTerm: number): void {
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, seenInTerm: currentTerm });
      this.maxCommitted = Math.max(this.maxCommitted, index);
    } else if (known.term !== term) {
      this.fail('state machine safety', `index ${index} committed with term ${known.term}, but member ${member} committed term ${term} there`);
    }
  }

  /**
   * A leader of `term` holds a log whose terms are given by `termAt` (undefined below its first
   * index, where a snapshot covers committed entries). Every entry committed in an earlier term
   * must be there.
   */
  leaderLog(member: MemberId, term: number, firstIndex: number, lastIndex: number, termAt: (index: number) => number | undefined): void {
    for (const [index, c] of this.committed) {
      if (c.seenInTerm >= term || index < firstIndex) continue;
      if (index > lastIndex) {
        this.fail('leader completeness', `leader ${member} of term ${term} lacks committed index ${index} (its log ends at ${lastIndex})`);
      }
      const t = termAt(index);
      if (t !== undefined && t !== c.term) {
        this.fail('leader completeness', `leader ${member} of term ${term} holds term ${t} at committed index ${index}, committed with term ${c.term}`);
      }
    }
  }

  /** A member's state machine applied `what` ('' for a no-op or membership entry) at `index`. */
  appliedEntry(member: MemberId, index: number, what: string): void {
    const first = this.applied.get(index);
    if (first === undefined) {
      this.applied.set(index, { member, what });
    } else if (first.what !== what) {
      this.fail(
        'state machine safety',
        `at index ${index} member ${first.member} applied ${JSON.stringify(first.what)} but member ${member} applied ${JSON.stringify(what)}`,
      );
    }
  }

  /**
   * Durability: the leader of `term` counts `member` as holding its log up to `acknowledged`. A
   * member acknowledges only what is durable and, within one term, its log only grows, so while
   * it is in the same term its log never ends before that (even after a crash and restart).
   */
  acknowledgedEntries(leader: MemberId, term: number, member: MemberId, memberTerm: number, acknowledged: number, memberLastIndex: number): void {
    if (memberTerm !== term || memberLastIndex >= acknowledged) return;
    this.fail(
      'durability',
      `member ${member} acknowledged entries up to ${acknowledged} to leader ${leader} of term ${term}, but its log ends at ${memberLastIndex} (acknowledged entries lost)`,
    );
  }

  get leaderTerms(): number {
    return this.leaders.size;
  }

  get highestCommitted(): number {
    return this.maxCommitted;
  }
}
