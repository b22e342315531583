import { expect } from 'chai';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { WatchHub } from '../../src/mvcc/watch-hub.js';
import { WatchKeyRange } from '../../src/mvcc/watch-key-range.js';
import { WatchFilter, type WatchDelivery, type WatchEvent, type WatchLimits } from '../../src/api/watch-types.js';
import type { Watcher } from '../../src/mvcc/watcher.js';
import { SystemClock } from '../../src/ports/system-clock.js';
import { ImmediateDeferral } from '../../src/ports/system-deferral.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });
const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1');
const key = (k: string) => WatchKeyRange.of(b(k), undefined)!;
const prefix = (p: string) => WatchKeyRange.of(b(p), b(p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)))!;
const fromKey = (k: string) => WatchKeyRange.of(b(k), Uint8Array.of(0))!;

interface Fixture {
  store: MvccStore;
  hub: WatchHub;
  index: number;
  put(k: string, v: string): Promise<void>;
  del(k: string, end?: string): Promise<void>;
}

async function fixture(limits: Partial<WatchLimits> = {}, backend = new MemoryBackend()): Promise<Fixture> {
  const store = await MvccStore.open(backend, { header });
  const hub = new WatchHub(store, new SystemClock(), new ImmediateDeferral(), limits);
  const f: Fixture = {
    store,
    hub,
    index: store.appliedIndex,
    async put(k, v) {
      await store.put(++f.index, { key: b(k), value: b(v) });
    },
    async del(k, end) {
      await store.deleteRange(++f.index, end === undefined ? { key: b(k) } : { key: b(k), rangeEnd: b(end) });
    },
  };
  return f;
}

/** Pull deliveries until `count` events arrived (fails on a compaction or a close). */
async function events(w: Watcher, count: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < count) {
    const d = await w.next();
    if (d === undefined || d.kind === 'compacted') throw new Error(`watcher ended after ${out.length} events: ${JSON.stringify(d)}`);
    if (d.kind === 'events') out.push(...d.events);
  }
  return out;
}

/** The next delivery, or undefined when none comes within `ms`. */
async function within(w: Watcher, ms: number): Promise<WatchDelivery | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const pending = w.next();
  const d = await Promise.race([pending, timeout]);
  clearTimeout(timer);
  if (d === undefined) {
    w.close();
    await pending;
  }
  return d;
}

const summary = (es: readonly WatchEvent[]) => es.map((e) => `${e.type} ${s(e.kv.key)}=${s(e.kv.value)}@${e.kv.modRevision}`);

describe('watch hub', function () {
  this.timeout(20_000);

  it('delivers live events of a key, a prefix and "from key", each once, in revision order', async () => {
    const f = await fixture();
    const one = f.hub.watch({ range: key('a') });
    const pre = f.hub.watch({ range: prefix('p/') });
    const from = f.hub.watch({ range: fromKey('m') });
    await f.put('a', '1');
    await f.put('p/x', '2');
    await f.put('b', '3');
    await f.put('z', '4');
    await f.del('a');
    await f.put('p/y', '5');
    expect(summary(await events(one, 2))).to.deep.equal(['put a=1@2', 'delete a=@6']);
    expect(summary(await events(pre, 2))).to.deep.equal(['put p/x=2@3', 'put p/y=5@7']);
    expect(summary(await events(from, 3))).to.deep.equal(['put p/x=2@3', 'put z=4@5', 'put p/y=5@7']);
    expect(await within(one, 100)).to.equal(undefined);
    f.hub.close();
  });

  it('replays history from a start revision, then goes on live, without a gap or a repeat', async () => {
    const f = await fixture();
    for (let i = 0; i < 50; i++) await f.put(`k${i % 5}`, `v${i}`);
    await f.del('k0', 'k3');
    const w = f.hub.watch({ range: prefix('k'), startRevision: 10 });
    for (let i = 50; i < 60; i++) await f.put(`k${i % 5}`, `v${i}`);
    const got = await events(w, 42 + 3 + 10);
    expect(got.map((e) => e.kv.modRevision)).to.deep.equal([
      ...Array.from({ length: 42 }, (_, i) => i + 10),
      52,
      52,
      52,
      ...Array.from({ length: 10 }, (_, i) => i + 53),
    ]);
    expect(got.slice(42, 45).map((e) => `${e.type} ${s(e.kv.key)}`)).to.deep.equal(['delete k0', 'delete k1', 'delete k2']);
    expect(w.synced).to.equal(true);
    f.hub.close();
  });

  it('cancels a watch from a compacted revision with the compact revision, and keeps the compact revision itself watchable', async () => {
    const f = await fixture();
    for (let i = 0; i < 10; i++) await f.put('k', `v${i}`);
    await f.store.compact(++f.index, 6);
    const old = f.hub.watch({ range: key('k'), startRevision: 5 });
    expect(await old.next()).to.deep.equal({ kind: 'compacted', compactRevision: 6 });
    expect(await old.next()).to.equal(undefined);
    const at = f.hub.watch({ range: key('k'), startRevision: 6 });
    expect(summary(await events(at, 6))).to.deep.equal(['put k=v4@6', 'put k=v5@7', 'put k=v6@8', 'put k=v7@9', 'put k=v8@10', 'put k=v9@11']);
    f.hub.close();
  });

  it('filters NOPUT and NODELETE', async () => {
    const f = await fixture();
    const noPut = f.hub.watch({ range: key('k'), filters: [WatchFilter.NoPut] });
    const noDelete = f.hub.watch({ range: key('k'), filters: [WatchFilter.NoDelete] });
    await f.put('k', '1');
    await f.del('k');
    await f.put('k', '2');
    expect(summary(await events(noPut, 1))).to.deep.equal(['delete k=@3']);
    expect(summary(await events(noDelete, 2))).to.deep.equal(['put k=1@2', 'put k=2@4']);
    expect(await within(noPut, 100)).to.equal(undefined);
    f.hub.close();
  });

  it('adds prev_kv to updates and deletes, live and from history, and none to a create', async () => {
    const f = await fixture();
    const live = f.hub.watch({ range: key('k'), prevKv: true });
    await f.put('k', '1');
    await f.put('k', '2');
    await f.del('k');
    const hist = f.hub.watch({ range: key('k'), prevKv: true, startRevision: 2 });
    for (const w of [live, hist]) {
      const got = await events(w, 3);
      expect(got.map((e) => (e.prevKv === undefined ? '-' : `${s(e.prevKv.value)}@${e.prevKv.modRevision}`))).to.deep.equal(['-', '1@2', '2@3']);
    }
    f.hub.close();
  });

  it('a watcher that reads nothing keeps a bounded backlog, then receives every event in order, once, and goes live again', async () => {
    const f = await fixture({ backlogEvents: 64, batchEvents: 100, scanRecords: 500 });
    const slow = f.hub.watch({ range: prefix('k/') });
    const pulling = slow.next();
    const total = 3000;
    let maxBacklog = 0;
    for (let i = 0; i < total; i++) {
      await f.put(`k/${i % 7}`, `v${i}`);
      maxBacklog = Math.max(maxBacklog, f.hub.backlogEvents);
    }
    expect(maxBacklog).to.be.at.most(64);
    expect(slow.synced).to.equal(false);
    const first = await pulling;
    const got: WatchEvent[] = first?.kind === 'events' ? [...first.events] : [];
    got.push(...(await events(slow, total - got.length)));
    expect(got.map((e) => s(e.kv.value))).to.deep.equal(Array.from({ length: total }, (_, i) => `v${i}`));
    expect(got.map((e) => e.kv.modRevision)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 2));
    await f.put('k/live', 'after');
    expect(summary(await events(slow, 1))).to.deep.equal([`put k/live=after@${total + 2}`]);
    expect(slow.synced).to.equal(true);
    f.hub.close();
  });

  it('writes that land while a watcher catches up are neither lost nor repeated', async () => {
    const f = await fixture({ backlogEvents: 8, batchEvents: 10, scanRecords: 20 });
    const w = f.hub.watch({ range: fromKey('a') });
    let written = 0;
    const writer = (async () => {
      for (; written < 2000; written++) {
        await f.put(`a${written % 13}`, `${written}`);
        if (written % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const got: WatchEvent[] = [];
    while (got.length < 2000) {
      got.push(...(await events(w, 1)));
      if (got.length % 97 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await writer;
    expect(got.map((e) => Number(s(e.kv.value)))).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i));
    f.hub.close();
  });

  it('a watcher whose store is restored from a snapshot gets the events the snapshot brought in', async () => {
    const leader = await fixture();
    const follower = await fixture();
    for (let i = 0; i < 5; i++) {
      await leader.put('k', `v${i}`);
      await follower.put('k', `v${i}`);
    }
    const w = follower.hub.watch({ range: key('k') });
    for (let i = 5; i < 12; i++) await leader.put('k', `v${i}`);
    await leader.del('k');
    const snap = leader.store.snapshot();
    await follower.store.restore(snap.data, snap.index);
    const got = await events(w, 8);
    expect(summary(got)).to.deep.equal([...Array.from({ length: 7 }, (_, i) => `put k=v${i + 5}@${i + 7}`), 'delete k=@14']);
    await follower.store.put(snap.index + 1, { key: b('k'), value: b('after') });
    expect(summary(await events(w, 1))).to.deep.equal(['put k=after@15']);
    leader.hub.close();
    follower.hub.close();
  });

  it('a watcher is canceled with the compact revision when a restore brings a compaction past what it needs', async () => {
    const leader = await fixture();
    const follower = await fixture();
    await leader.put('k', 'v0');
    await follower.put('k', 'v0');
    const w = follower.hub.watch({ range: key('k') });
    for (let i = 1; i < 10; i++) await leader.put('k', `v${i}`);
    await leader.store.compact(++leader.index, 8);
    const snap = leader.store.snapshot();
    await follower.store.restore(snap.data, snap.index);
    expect(await w.next()).to.deep.equal({ kind: 'compacted', compactRevision: 8 });
    leader.hub.close();
    follower.hub.close();
  });

  it('offers a write only to the watchers of its key and to range watchers; the others move on all the same', async () => {
    const f = await fixture();
    const single = Array.from({ length: 5_000 }, (_, i) => f.hub.watch({ range: key(`k${i}`) }));
    const ranged = f.hub.watch({ range: prefix('k1') });
    await f.put('k1234', 'x');
    await f.put('other', 'y');
    expect(summary(await events(single[1234]!, 1))).to.deep.equal(['put k1234=x@2']);
    expect(summary(await events(ranged, 1))).to.deep.equal(['put k1234=x@2']);
    expect(await within(single[4320]!, 50)).to.equal(undefined);
    // A watcher that was offered nothing still reports every revision as handed over.
    expect(single[4321]!.progressRevision()).to.equal(3);
    expect(single[1234]!.progressRevision()).to.equal(3);
    await f.put('k4321', 'z');
    expect(summary(await events(single[4321]!, 1))).to.deep.equal(['put k4321=z@4']);
    f.hub.close();
  });

  it('a single-key watcher idle through compacted writes to other keys catches up from where it was, not from before the compaction', async () => {
    const f = await fixture({ backlogEvents: 2 });
    const w = f.hub.watch({ range: key('k') });
    // A full backlog, unread.
    await f.put('k', 'v0');
    await f.put('k', 'v1');
    for (let i = 0; i < 50; i++) await f.put('other', `o${i}`);
    await f.store.compact(++f.index, 40);
    // One more than the backlog holds: the watcher falls back to reading the Backend, from revision 54.
    for (let i = 2; i < 5; i++) await f.put('k', `v${i}`);
    expect(f.hub.watcherCount.unsynced).to.equal(1);
    expect(summary(await events(w, 5))).to.deep.equal(['put k=v0@2', 'put k=v1@3', 'put k=v2@54', 'put k=v3@55', 'put k=v4@56']);
    f.hub.close();
  });

  it('a restore does not cancel a watcher that was idle through writes to other keys since compacted', async () => {
    const leader = await fixture();
    const follower = await fixture();
    await leader.put('k', 'v0');
    await follower.put('k', 'v0');
    const w = follower.hub.watch({ range: key('k') });
    for (const f of [leader, follower]) {
      for (let i = 0; i < 20; i++) await f.put('other', `o${i}`);
      await f.store.compact(++f.index, 20);
    }
    await leader.put('k', 'new');
    const snap = leader.store.snapshot();
    await follower.store.restore(snap.data, snap.index);
    expect(summary(await events(w, 1))).to.deep.equal(['put k=new@23']);
    leader.hub.close();
    follower.hub.close();
  });

  it('sends progress to an idle progress_notify watcher, and not to a busy one or one that did not ask', async () => {
    const f = await fixture({ progressIntervalMs: 50 });
    const idle = f.hub.watch({ range: key('idle'), progressNotify: true });
    const plain = f.hub.watch({ range: key('idle') });
    await f.put('other', 'x');
    expect(await within(idle, 1000)).to.deep.equal({ kind: 'progress', revision: 2 });
    expect(await within(plain, 200)).to.equal(undefined);
    f.hub.close();
  });
});
