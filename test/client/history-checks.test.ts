import { expect } from 'chai';
import { overlappingSections, percentile, revisionSequenceProblems, type SeenEvent } from './history-checks.js';

const at = (revision: number): SeenEvent => ({ type: 'put', key: 'k', value: 'v', revision: BigInt(revision) });

/** The fault tests' checkers catch what they are there to catch. */
describe('history checks of the client fault tests', () => {
  it('an exact sequence passes; a gap, a duplicate, disorder and a short end are each reported', () => {
    expect(revisionSequenceProblems([at(3), at(4), at(5)], 3n, 5n)).to.deep.equal([]);
    expect(revisionSequenceProblems([at(3), at(5)], 3n, 5n)).to.deep.equal(['revisions 4..4 missing before event #1']);
    expect(revisionSequenceProblems([at(3), at(4), at(4), at(5)], 3n, 5n)).to.deep.equal(['event #2 at revision 4 again or out of order (expected 5)']);
    expect(revisionSequenceProblems([at(4), at(3)], 3n, 4n)).to.have.length.greaterThan(0);
    expect(revisionSequenceProblems([at(3), at(4)], 3n, 5n)).to.deep.equal(['the sequence ends at revision 4, the history at 5']);
  });

  it('overlapping critical sections are found, back-to-back ones are not', () => {
    const s = (holder: string, start: number, end: number) => ({ holder, token: BigInt(start), start, end });
    expect(overlappingSections([s('a', 0, 10), s('b', 10, 20), s('c', 20, 30)])).to.deep.equal([]);
    expect(overlappingSections([s('a', 0, 10), s('c', 25, 30), s('b', 5, 20)]).map(([x, y]) => x.holder + y.holder)).to.deep.equal(['ab']);
    expect(overlappingSections([s('a', 0, 100), s('b', 10, 20), s('c', 30, 40)]).map(([x, y]) => x.holder + y.holder)).to.deep.equal(['ab', 'ac']);
  });

  it('percentiles by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).to.equal(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).to.equal(10);
    expect(Number.isNaN(percentile([], 50))).to.equal(true);
  });
});
