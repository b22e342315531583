import { expect } from 'chai';
import {
  checkLogStoreCorruption,
  checkLogStoreFsyncOrdering,
  checkLogStoreSurvivesSigkill,
  findStrace,
  STRACE_MISSING,
  type DiskStoreTarget,
} from '@cairn/core/testkit';

// Each planted bug is a subclass overriding one protected seam of FileLogStore; the kit's check for
// it must fail, with a message that says what went wrong.
const target = (file: string): DiskStoreTarget => ({ module: new URL(file, import.meta.url), dataFiles: /^log\.dat$/ });
const ackBeforeWrite = target('./file-log-store-ack-before-write.js');
const ackBeforeSync = target('./file-log-store-ack-before-sync.js');
const cutAtBadFrame = target('./file-log-store-cut-at-bad-frame.js');

/** The error `check` rejects with; fails the test when it resolves. */
async function failureOf(check: Promise<unknown>): Promise<Error> {
  try {
    await check;
  } catch (err) {
    console.log(`        caught: ${(err as Error).message.split('\n').slice(0, 2).join(' ').slice(0, 240)}`);
    return err as Error;
  }
  throw new Error('the check passed on a store with a planted bug');
}

describe('planted FileLogStore bugs make the matching kit check fail', function () {
  this.timeout(120_000);

  it('acknowledged before write: the SIGKILL check catches it', async () => {
    const error = await failureOf(checkLogStoreSurvivesSigkill(ackBeforeWrite, { rounds: 3 }));
    expect(error.message).to.match(/reopened after SIGKILL with \d+ operations acknowledged/);
  });

  it('acknowledged after write(2), before fdatasync: the SIGKILL check cannot see it (the page cache outlives the process)', async () => {
    const rounds = await checkLogStoreSurvivesSigkill(ackBeforeSync, { rounds: 2 });
    expect(rounds.every((r) => r.acknowledged >= 3)).to.equal(true);
  });

  it('acknowledged after write(2), before fdatasync: the strace check catches it', async function () {
    if (findStrace() === undefined) {
      console.log(`      ${STRACE_MISSING}`);
      this.skip();
    }
    const error = await failureOf(checkLogStoreFsyncOrdering(ackBeforeSync));
    expect(error.message).to.match(/ack \d+ .* came before \S+log\.dat was synced after its last write .*the next sync of it came after the ack/);
  });

  it('acknowledged before write: the strace check catches it too', async function () {
    if (findStrace() === undefined) {
      console.log(`      ${STRACE_MISSING}`);
      this.skip();
    }
    const error = await failureOf(checkLogStoreFsyncOrdering(ackBeforeWrite));
    expect(error.message).to.match(/was written before any write of its data/);
  });

  it('a damaged frame cut off as if it were a torn tail: the corruption check catches it', async () => {
    const error = await failureOf(checkLogStoreCorruption(cutAtBadFrame, { flipRounds: 6, tearRounds: 1 }));
    expect(error.message).to.match(/read back wrong data without an error: holds \[\d+, \d+\], expected/);
  });
});
