import { expect } from 'chai';
import type { Backend, BackendRange, BackendReadView } from '../../src/ports/backend.js';
import type { Lifecycle } from '../../src/ports/lifecycle.js';
import type { LogStore } from '../../src/ports/log-store.js';
import type { SnapshotStore } from '../../src/ports/snapshot-store.js';
import type { Entry } from '../../src/raft/types.js';
import { backendChecks } from '../../src/testkit/conformance/storage/backend-checks.js';
import { checkLogStoreCorruption } from '../../src/testkit/conformance/storage/corruption.js';
import { checkLogStoreFsyncOrdering, findStrace, STRACE_MISSING } from '../../src/testkit/conformance/storage/fsync-ordering.js';
import { checkLogStoreSurvivesCrashes } from '../../src/testkit/conformance/storage/log-store-checks.js';
import { checkLogStoreSurvivesSigkill } from '../../src/testkit/conformance/storage/sigkill-crash.js';
import { snapshotStoreChecks } from '../../src/testkit/conformance/storage/snapshot-store-checks.js';
import { runStorageCheck, type StorageCheck } from '../../src/testkit/conformance/storage/store-incarnations.js';
import { removeDirectory, temporaryDirectory } from '../../src/testkit/conformance/storage/disk-store-module.js';
import { MemoryBackend } from '../../src/testkit/memory/memory-backend.js';
import type { DiskStoreTarget, StoreFixtureFactory } from '../../src/testkit/conformance/storage/store-fixture.js';
import { MemoryDisk } from '../../src/testkit/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/testkit/memory/memory-log-store.js';
import { MemorySnapshotStore } from '../../src/testkit/memory/memory-snapshot-store.js';
import { FileSnapshotStore } from './file-snapshot-store.js';

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

/** A backend whose read views are the live backend: they see every later write. */
class LiveViewBackend extends MemoryBackend {
  override readView(): BackendReadView {
    return { get: (key) => this.get(key), range: (range) => this.range(range), release: () => undefined };
  }
}

/** A backend whose ranges order keys as signed bytes (0x80 before 0x7f), as a naive comparator does. */
class SignedOrderBackend extends MemoryBackend {
  override async *range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    const pairs: [Uint8Array, Uint8Array][] = [];
    for await (const pair of super.range({ ...range, limit: undefined })) pairs.push(pair);
    const signed = (a: Uint8Array, b: Uint8Array): number => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return ((a[i]! << 24) >> 24) - ((b[i]! << 24) >> 24);
      return a.length - b.length;
    };
    pairs.sort((x, y) => (range.reverse === true ? -1 : 1) * signed(x[0], y[0]));
    yield* pairs.slice(0, range.limit ?? pairs.length);
  }
}

const checkTitled = <S extends Lifecycle>(checks: StorageCheck<S>[], title: RegExp): StorageCheck<S> => {
  const check = checks.find((c) => title.test(c.title));
  if (check === undefined) throw new Error(`no check titled ${title}`);
  return check;
};

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

  it('the snapshot streaming check catches a store that holds a snapshot whole in memory', async () => {
    const factory: StoreFixtureFactory<SnapshotStore> = async () => ({ create: () => new MemorySnapshotStore(), dispose: async () => undefined });
    const error = await failureOf(runStorageCheck(factory, checkTitled(snapshotStoreChecks({ retain: 2, snapshotBytes: 32 << 20 }), /streams/)));
    expect(error.message).to.match(/it was held whole, not streamed/);
  });

  it('the backend read-view check catches views that see later writes', async () => {
    const factory: StoreFixtureFactory<Backend> = async () => ({ create: () => new LiveViewBackend(), dispose: async () => undefined });
    const error = await failureOf(runStorageCheck(factory, checkTitled(backendChecks(), /read view/)));
    expect(error.message).to.match(/in a view taken before the writes/);
  });

  it('the backend range check catches keys ordered as signed bytes', async () => {
    const factory: StoreFixtureFactory<Backend> = async () => ({ create: () => new SignedOrderBackend(), dispose: async () => undefined });
    const error = await failureOf(runStorageCheck(factory, checkTitled(backendChecks(), /unsigned byte order/)));
    expect(error.message).to.match(/range\(.*\) over the edge keys: keys \[/);
  });

  it('the snapshot retention check catches a store that keeps more than it says', async () => {
    const factory: StoreFixtureFactory<SnapshotStore> = async () => {
      const directory = await temporaryDirectory('retain');
      return { directory, create: () => new FileSnapshotStore(directory, 100), dispose: () => removeDirectory(directory) };
    };
    const error = await failureOf(runStorageCheck(factory, checkTitled(snapshotStoreChecks({ retain: 2 }), /keeps only the \d+ most recently saved/)));
    expect(error.message).to.match(/older snapshots are not removed/);
  });
});
