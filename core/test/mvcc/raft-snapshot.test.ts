import { expect } from 'chai';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import type { Backend, BackendOp, BackendRange, BackendReadView, BackendSize } from '../../src/ports/backend.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** A Backend that counts what a restore does to it, and can fail a write as a crash would. */
class WatchedBackend implements Backend {
  writes: number[] = [];
  flushes = 0;
  views = 0;
  releases = 0;
  /** Throw at this write (counted from 1), as if the process died there. */
  failAtWrite: number | undefined;

  constructor(readonly inner: MemoryBackend) {}

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.inner.range(range);
  }

  async write(ops: readonly BackendOp[]): Promise<void> {
    this.writes.push(ops.length);
    if (this.failAtWrite !== undefined && this.writes.length >= this.failAtWrite) throw new Error('power cut');
    await this.inner.write(ops);
  }

  async flush(): Promise<void> {
    this.flushes++;
    await this.inner.flush();
  }

  readView(): BackendReadView {
    this.views++;
    const view = this.inner.readView();
    return {
      get: (k) => view.get(k),
      range: (r) => view.range(r),
      release: () => {
        this.releases++;
        view.release();
      },
    };
  }

  size(): Promise<BackendSize> {
    return this.inner.size();
  }

  async defragment(): Promise<void> {}
}

/** A store with `n` keys written at indexes 1..n, one compaction, and some deletes. */
async function filledStore(n: number, backend: Backend = new MemoryBackend()): Promise<MvccStore> {
  const store = await MvccStore.open(backend, { header });
  let index = 0;
  for (let i = 0; i < n; i++) await store.put(++index, { key: bytes(`key-${i % 40}`), value: bytes(`value-${i}`) });
  await store.compact(++index, Math.floor(n / 2));
  await store.deleteRange(index + 1, { key: bytes('key-1'), rangeEnd: bytes('key-2') });
  return store;
}

async function contents(store: MvccStore): Promise<string> {
  const all = await store.range({ key: bytes('\u0000'), rangeEnd: bytes('\u00ff') });
  return JSON.stringify({
    revision: store.currentRevision,
    compact: store.compactRevision,
    applied: store.appliedIndex,
    kvs: all.kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString(), kv.createRevision, kv.modRevision, kv.version]),
    hash: (await store.hashKv(0)).hash,
  });
}

describe('MVCC store: the Raft snapshot', () => {
  it('pins its view and applied index when taken: writes made before it is read do not show', async () => {
    const source = await filledStore(100);
    const expected = await contents(source);
    const snapshot = source.snapshot();
    expect(snapshot.index).to.equal(source.appliedIndex);
    // Applies go on before the first byte is read.
    await source.put(source.appliedIndex + 1, { key: bytes('late'), value: bytes('x') });
    await source.put(source.appliedIndex + 1, { key: bytes('key-3'), value: bytes('changed') });
    const target = await MvccStore.open(new MemoryBackend(), { header });
    await target.restore(snapshot.data, snapshot.index);
    expect(await contents(target)).to.equal(expected);
  });

  it('releases its read view once read to the end, when the read stops early, and when released unread', async () => {
    const backend = new WatchedBackend(new MemoryBackend());
    const source = await filledStore(50, backend);
    const whole = source.snapshot();
    for await (const _ of whole.data) {
      /* read it all */
    }
    expect(backend.releases).to.equal(backend.views);
    whole.release();
    expect(backend.releases).to.equal(backend.views);

    const stopped = source.snapshot();
    for await (const _ of stopped.data) break;
    expect(backend.releases).to.equal(backend.views);

    const unread = source.snapshot();
    unread.release();
    expect(backend.releases).to.equal(backend.views);
    let error: unknown;
    try {
      for await (const _ of unread.data) {
        /* must not read a released view */
      }
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/released before it was read/);

    // Released while a transport is reading it: the read fails; it never just ends, looking complete.
    for (let i = 0; i < 200; i++) await source.put(source.appliedIndex + 1, { key: bytes(`big-${i}`), value: new Uint8Array(1024).fill(i) });
    const cut = source.snapshot();
    const chunks: Uint8Array[] = [];
    let failed: unknown;
    try {
      for await (const chunk of cut.data) {
        chunks.push(chunk);
        cut.release();
      }
    } catch (err) {
      failed = err;
    }
    expect(chunks).to.have.length(1);
    expect(String(failed)).to.match(/released while being read/);
    expect(backend.releases).to.equal(backend.views);
  });

  it('restores in bounded batches, writing only what differs from what the store already holds', async () => {
    const source = await filledStore(300);
    const expected = await contents(source);
    const fresh = new WatchedBackend(new MemoryBackend());
    const target = await MvccStore.open(fresh, { header });
    const snapshot = source.snapshot();
    await target.restore(snapshot.data, snapshot.index, { batchOps: 16 });
    expect(await contents(target)).to.equal(expected);
    expect(Math.max(...fresh.writes)).to.be.at.most(16);
    expect(fresh.writes.length).to.be.greaterThan(5);
    expect(fresh.flushes).to.be.at.least(3);

    // A lagging member: it holds an older state of the same history, so most of it is not written again.
    const older = await filledStore(280);
    const lagging = new WatchedBackend(new MemoryBackend());
    const behind = await MvccStore.open(lagging, { header });
    const first = older.snapshot();
    await behind.restore(first.data, first.index);
    lagging.writes = [];
    const second = source.snapshot();
    await behind.restore(second.data, second.index, { batchOps: 16 });
    expect(await contents(behind)).to.equal(expected);
    const written = fresh.writes.reduce((a, b) => a + b, 0);
    expect(lagging.writes.reduce((a, b) => a + b, 0)).to.be.lessThan(written / 2);
  });

  it('a restore cut short is seen at open (incomplete, no applied index) and a second restore completes it', async () => {
    const source = await filledStore(200);
    const expected = await contents(source);
    for (const failAt of [2, 5, 9]) {
      // The target already held another state: a crash must not leave a mix that looks whole.
      const inner = new MemoryBackend();
      await (await filledStore(30, inner)).flush();
      const backend = new WatchedBackend(inner);
      const target = await MvccStore.open(backend, { header });
      backend.failAtWrite = failAt;
      const snapshot = source.snapshot();
      let error: unknown;
      await target.restore(snapshot.data, snapshot.index, { batchOps: 20 }).catch((err: unknown) => {
        error = err;
      });
      snapshot.release();
      expect(String(error)).to.match(/power cut/);

      // What the process wrote, and what a crash would have left (only what was flushed).
      for (const left of [inner, inner.recover()]) {
        const reopened = await MvccStore.open(left, { header });
        expect(reopened.restoreInterrupted, `failing at write ${failAt}`).to.equal(true);
        const sm = new KvStateMachine(reopened, new AlarmRegistry(left));
        expect(await sm.appliedIndex()).to.equal(undefined);
        const again = source.snapshot();
        await sm.restore({ index: again.index, term: 1, confState: { voters: [], learners: [] } }, again.data);
        expect(reopened.restoreInterrupted).to.equal(false);
        expect(await sm.appliedIndex()).to.equal(source.appliedIndex);
        expect(await contents(reopened)).to.equal(expected);
        // And durably so.
        expect(await contents(await MvccStore.open(left.recover(), { header }))).to.equal(expected);
      }
    }
  });

  it('refuses snapshot data that is not at the index its metadata names', async () => {
    const source = await filledStore(20);
    const target = await MvccStore.open(new MemoryBackend(), { header });
    const snapshot = source.snapshot();
    let error: unknown;
    await target.restore(snapshot.data, snapshot.index + 1).catch((err: unknown) => {
      error = err;
    });
    expect(String(error)).to.match(/applied index \d+, its metadata says \d+/);
    expect(target.restoreInterrupted).to.equal(true);
  });
});
