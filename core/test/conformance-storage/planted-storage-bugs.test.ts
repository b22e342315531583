import { expect } from 'chai';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, BackendRange, BackendReadView } from '../../src/ports/backend.js';
import type { Lifecycle } from '../../src/ports/lifecycle.js';
import type { LogStore } from '../../src/ports/log-store.js';
import type { SnapshotStore, StoredSnapshot } from '../../src/ports/snapshot-store.js';
import type { Entry, SnapshotMeta } from '../../src/protocol/raft-types.js';
import { backendChecks } from '../../src/testkit/conformance/storage/backend-checks.js';
import { checkLogStoreSurvivesCrashes } from '../../src/testkit/conformance/storage/log-store-checks.js';
import { snapshotStoreChecks } from '../../src/testkit/conformance/storage/snapshot-store-checks.js';
import { runStorageCheck, type StorageCheck } from '../../src/testkit/conformance/storage/store-incarnations.js';
import { removeDirectory, temporaryDirectory } from '../../src/testkit/conformance/storage/disk-store-module.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import type { StoreFixtureFactory } from '../../src/testkit/conformance/storage/store-fixture.js';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { MemorySnapshotStore } from '../../src/memory/memory-snapshot-store.js';

// The planted bugs of a real file store (acknowledged before write or before fdatasync, a bad
// frame cut off as a torn tail) live with that store, in examples/custom-storage/test/.

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
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  entries(lo: number, hi: number, maxBytes?: number): Promise<Entry[]> {
    return this.inner.entries(lo, hi, maxBytes);
  }
  term(index: number): Promise<number | undefined> {
    return this.inner.term(index);
  }
  firstIndex(): number {
    return this.inner.firstIndex();
  }
  lastIndex(): number {
    return this.inner.lastIndex();
  }
  append(entries: readonly Entry[]): Promise<void> {
    return this.later(() => this.inner.append(entries));
  }
  truncateFrom(index: number): Promise<void> {
    return this.later(() => this.inner.truncateFrom(index));
  }
  compactTo(index: number, term: number): Promise<void> {
    return this.later(() => this.inner.compactTo(index, term));
  }
  private later(write: () => Promise<void>): Promise<void> {
    setTimeout(() => void write().catch(() => undefined), 0);
    return Promise.resolve();
  }
}

/**
 * Snapshots in files that are never removed: a store that keeps more than its `retain` says. Just
 * enough of a store for the retention check (it keeps its catalog in memory only).
 */
class OverRetainingSnapshotStore implements SnapshotStore {
  private readonly saved: { meta: SnapshotMeta; path: string; size: number }[] = [];
  constructor(private readonly directory: string) {}
  async open(): Promise<void> {
    /* nothing to acquire */
  }
  async close(): Promise<void> {
    /* every save closes its file */
  }
  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    const path = join(this.directory, `${this.saved.length}.snap`);
    const handle = await open(path, 'w');
    let size = 0;
    try {
      for await (const chunk of data) {
        await handle.write(chunk);
        size += chunk.byteLength;
      }
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.saved.push({ meta, path, size });
  }
  async latest(): Promise<StoredSnapshot | undefined> {
    const newest = this.saved.at(-1);
    if (newest === undefined) return undefined;
    const empty = async function* (): AsyncIterable<Uint8Array> {
      /* no bytes */
    };
    return { meta: newest.meta, size: newest.size, read: () => (newest.size === 0 ? empty() : createReadStream(newest.path)) };
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
      return { directory, create: () => new OverRetainingSnapshotStore(directory), dispose: () => removeDirectory(directory) };
    };
    const error = await failureOf(runStorageCheck(factory, checkTitled(snapshotStoreChecks({ retain: 2 }), /keeps only the \d+ most recently saved/)));
    expect(error.message).to.match(/older snapshots are not removed/);
  });
});
