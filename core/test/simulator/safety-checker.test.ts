import { expect } from 'chai';
import { EntryType, type Entry } from '../../src/protocol/raft-types.js';
import { SafetyChecker, SafetyViolation } from '../../src/testkit/simulator/safety-checker.js';

const entry = (index: number, term: number, data: string): Entry => ({ index, term, type: EntryType.Normal, data: Buffer.from(data) });

/** The property a hand-made history violates, as the checker names it. */
function violated(history: (checker: SafetyChecker) => void): string | undefined {
  const checker = new SafetyChecker();
  try {
    history(checker);
  } catch (err) {
    expect(err).to.be.instanceOf(SafetyViolation);
    expect(checker.violation).to.equal(err);
  }
  return checker.violation?.property;
}

// Each check of the simulator seen to fail on a history that breaks it, and to pass on one that does not.
describe('safety checker: each property fails on a history that breaks it', () => {
  it("durability: a member of the leader's term holds less than it acknowledged (a later term may cut it back)", () => {
    expect(
      violated((c) => {
        c.acknowledgedEntries('a', 4, 'b', 4, 10, 10);
        c.acknowledgedEntries('a', 4, 'b', 5, 10, 7);
      }),
    ).to.equal(undefined);
    expect(violated((c) => c.acknowledgedEntries('a', 4, 'b', 4, 10, 9))).to.equal('durability');
  });

  it('election safety: two leaders in one term', () => {
    expect(
      violated((c) => {
        c.leaderElected('a', 2);
        c.leaderElected('a', 2);
        c.leaderElected('b', 3);
      }),
    ).to.equal(undefined);
    expect(
      violated((c) => {
        c.leaderElected('a', 2);
        c.leaderElected('b', 2);
      }),
    ).to.equal('election safety');
  });

  it('log matching: the same index and term with other data, or after another previous term', () => {
    expect(
      violated((c) => {
        c.appended('a', 0, [entry(1, 1, 'x'), entry(2, 1, 'y')]);
        c.appended('b', 1, [entry(2, 1, 'y')]);
      }),
    ).to.equal(undefined);
    expect(
      violated((c) => {
        c.appended('a', 0, [entry(1, 1, 'x')]);
        c.appended('b', 0, [entry(1, 1, 'z')]);
      }),
    ).to.equal('log matching');
    expect(
      violated((c) => {
        c.appended('a', 1, [entry(3, 2, 'x')]);
        c.appended('b', 2, [entry(3, 2, 'x')]);
      }),
    ).to.equal('log matching');
  });

  it('leader completeness: a later leader lacks a committed entry, or holds another term there', () => {
    const committedAt5 = (c: SafetyChecker): void => c.committedEntry('a', 5, 2, 2);
    expect(
      violated((c) => {
        committedAt5(c);
        c.leaderLog('b', 3, 1, 6, () => 2);
      }),
    ).to.equal(undefined);
    expect(
      violated((c) => {
        committedAt5(c);
        c.leaderLog('b', 3, 1, 4, () => 2);
      }),
    ).to.equal('leader completeness');
    expect(
      violated((c) => {
        committedAt5(c);
        c.leaderLog('b', 3, 1, 6, (i) => (i === 5 ? 1 : 2));
      }),
    ).to.equal('leader completeness');
  });

  it('state machine safety: two members commit or apply different entries at one index', () => {
    expect(
      violated((c) => {
        c.appliedEntry('a', 4, 'put x');
        c.appliedEntry('b', 4, 'put x');
      }),
    ).to.equal(undefined);
    expect(
      violated((c) => {
        c.appliedEntry('a', 4, 'put x');
        c.appliedEntry('b', 4, 'put y');
      }),
    ).to.equal('state machine safety');
    expect(
      violated((c) => {
        c.committedEntry('a', 4, 2, 2);
        c.committedEntry('b', 4, 3, 3);
      }),
    ).to.equal('state machine safety');
  });
});
