import { expect } from 'chai';
import type { LogStore } from '../../src/ports/log-store.js';
import type { Entry } from '../../src/raft/types.js';
import { checkLogStoreCorruption } from '../../src/testkit/conformance/storage/corruption.js';
import { checkLogStoreFsyncOrdering, findStrace, STRACE_MISSING } from '../../src/testkit/conformance/storage/fsync-ordering.js';
import { checkLogStoreSurvivesCrashes } from '../../src/testkit/conformance/storage/log-store-checks.js';
import { checkLogStoreSurvivesSigkill } from '../../src/testkit/conformance/storage/sigkill-crash.js';
import type { DiskStoreTarget, StoreFixtureFactory } from '../../src/testkit/conformance/storage/store-fixture.js';
import { MemoryDisk } from '../../src/testkit/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/testkit/memory/memory-log-store.js';

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

/** A memory log whose appends resolve at once and reach the disk a timer later: a write-behind cache. */
class WriteBehindLogStore implements LogStore {
  constructor(readonly inner: MemoryLogStore) {}
  open(): Promise<void> { return this.inner.open(); }
  close(): Promise<void> { return this.inner.close(); }
  entries(lo: number, hi: number, maxBytes?: number): Promise<Entry[]> { return this.inner.entries(lo, hi, maxBytes); }
  term(index: number): Promise<number | undefined> { return this.inner.term(index); }
  firstIndex(): number { return this.inner.firstIndex(); }
  lastIndex(): number { return this.inner.lastIndex(); }
  append(entries: readonly Entry[]): Promise<void> { return this.later(() => this.inner.append(entries)); }
  truncateFrom(index: number): Promise<void> { return this.later(() => this.inner.truncateFrom(index)); }
  compactTo(index: number, term: number): Promise<void> { return this.later(() => this.inner.compactTo(index, term)); }
  private later(write: () => Promise<void>): Promise<void> {
    setTimeout(() => void write().catch(() => undefined), 0);
    return Promise.resolve();
  }
}

describe('storage kit: planted bugs make the matching check fail', function () {
  this.timeout(120_000);

  it('the SIGKILL check catches appends acknowledged before their data was written', async () => {
    const error = await failureOf(checkLogStoreSurvivesSigkill(ackBeforeWrite, { rounds: 3 }));
    expect(error.message).to.match(/reopened after SIGKILL with \d+ operations acknowledged/);
  });

  it('the SIGKILL check cannot see appends acknowledged between write and fdatasync: the page cache outlives the process', async () => {
    const rounds = await checkLogStoreSurvivesSigkill(ackBeforeSync, { rounds: 2 });
    expect(rounds.every((r) => r.acknowledged >= 3)).to.equal(true);
  });

  it('the strace check catches appends acknowledged after write(2) but before fdatasync', async function () {
    if (findStrace() === undefined) {
      console.log(`      ${STRACE_MISSING}`);
      this.skip();
    }
    const error = await failureOf(checkLogStoreFsyncOrdering(ackBeforeSync));
    expect(error.message).to.match(/ack \d+ .* came before \S+log\.dat was synced after its last write .*the next sync of it came after the ack/);
  });

  it('the strace check catches appends acknowledged before their data was written', async function () {
    if (findStrace() === undefined) {
      console.log(`      ${STRACE_MISSING}`);
      this.skip();
    }
    const error = await failureOf(checkLogStoreFsyncOrdering(ackBeforeWrite));
    expect(error.message).to.match(/was written before any write of its data/);
  });

  it('the corruption check catches a store that cuts off a damaged frame as if it were a torn tail', async () => {
    const error = await failureOf(checkLogStoreCorruption(cutAtBadFrame, { flipRounds: 6, tearRounds: 1 }));
    expect(error.message).to.match(/read back wrong data without an error: holds \[\d+, \d+\], expected/);
  });

  it('the in-process crash check catches a write-behind log on a MemoryDisk', async () => {
    const factory: StoreFixtureFactory<LogStore> = async () => {
      let disk = new MemoryDisk();
      let last: WriteBehindLogStore | undefined;
      return {
        create: () => (last = new WriteBehindLogStore(last === undefined ? new MemoryLogStore(disk) : last.inner.recover((disk = new MemoryDisk())))),
        crash: () => disk.crash(),
        dispose: async () => undefined,
      };
    };
    const error = await failureOf(checkLogStoreSurvivesCrashes(factory, { crashRounds: 4 }));
    expect(error.message).to.match(/crashed with \d+ operations acknowledged/);
  });
});
