import { expect } from 'chai';
import { progressOn, QUIET_PROGRESS, TerminalProgressBar } from '../../src/assembly/progress-bar.js';

function terminal(columns = 80): { isTTY: true; columns: number; written: string[]; write(chunk: string): boolean } {
  return {
    isTTY: true,
    columns,
    written: [],
    write(chunk: string) {
      this.written.push(chunk);
      return true;
    },
  };
}

describe('progress bar', () => {
  it('draws only on a terminal', () => {
    expect(progressOn({ isTTY: false, write: () => true })).to.equal(QUIET_PROGRESS);
    expect(progressOn({ write: () => true })).to.equal(QUIET_PROGRESS);
    expect(progressOn(undefined)).to.equal(QUIET_PROGRESS);
    expect(progressOn(terminal())).to.be.instanceOf(TerminalProgressBar);
  });

  it('redraws in place at most every 100 ms, and ends the line at 100%', () => {
    let now = 0;
    const stream = terminal();
    const bar = new TerminalProgressBar(stream, () => now);
    bar.phase('checking', 4 * 1024 * 1024, 'bytes');
    expect(stream.written).to.deep.equal([`\rchecking [${'-'.repeat(30)}]   0% 0.0 MiB/4.0 MiB`]);
    bar.update(1024 * 1024);
    expect(stream.written, 'too soon to redraw').to.have.length(1);
    now = 100;
    bar.update(2 * 1024 * 1024);
    expect(stream.written[1]).to.equal(`\rchecking [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 2.0 MiB/4.0 MiB`);
    bar.finish();
    expect(stream.written.slice(2)).to.deep.equal([`\rchecking [${'#'.repeat(30)}] 100% 4.0 MiB/4.0 MiB`, '\n']);
    bar.update(1);
    expect(stream.written, 'nothing after finish').to.have.length(4);
  });

  it('takes a terminal that says it has 0 columns (an unsized pseudo-terminal) as 80 wide', () => {
    const stream = terminal(0);
    new TerminalProgressBar(stream, () => 0).phase('restoring', undefined, 'revisions');
    expect(stream.written).to.deep.equal(['\rrestoring 0 revisions']);
  });

  it('counts when the total is unknown, clears a longer previous line, and fits the terminal', () => {
    let now = 0;
    const stream = terminal(20);
    const bar = new TerminalProgressBar(stream, () => now);
    bar.phase('restoring', undefined, 'revisions');
    now = 200;
    bar.update(123456);
    expect(stream.written[1]).to.equal('\rrestoring 123456 re');
    now = 400;
    bar.phase('x');
    // The new phase ended the old one's line first.
    expect(stream.written.slice(2, 5)).to.deep.equal(['\rrestoring 123456 re', '\n', '\rx 0']);
  });
});
