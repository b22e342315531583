import { expect } from 'chai';
import { EntryType, MessageType, type Entry, type Message } from '../../src/protocol/raft-types.js';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { MemoryNetwork } from '../../src/testkit/memory/memory-network.js';
import { MemorySnapshotStore } from '../../src/memory/memory-snapshot-store.js';
import { MemoryStableStore } from '../../src/memory/memory-stable-store.js';
import { SeededRandom } from '../../src/testkit/memory/seeded-random.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';

const entry = (index: number, term: number, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });
const msg = (from: string, to: string, index: number): Message => ({
  type: MessageType.App,
  from,
  to,
  term: 1,
  logTerm: 0,
  index,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
  context: new Uint8Array(0),
});
async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}
async function collect(data: AsyncIterable<Uint8Array>): Promise<string> {
  let s = '';
  for await (const c of data) s += new TextDecoder().decode(c);
  return s;
}

describe('VirtualClock', () => {
  it('fires timers in time order, and in scheduling order at equal times', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.setTimeout(() => fired.push('c'), 20);
    const cancelled = clock.setTimeout(() => fired.push('x'), 15);
    cancelled.cancel();
    clock.advance(25);
    expect(fired).to.deep.equal(['a', 'b', 'c']);
    expect(clock.now()).to.equal(25);
  });

  it('repeats intervals until cancelled and lets async code settle between timers', async () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const handle = clock.setInterval(() => ticks++, 10);
    const seen: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => seen.push(clock.now()));
    }, 35);
    await clock.runUntil(50);
    expect(ticks).to.equal(5);
    expect(seen).to.deep.equal([35]);
    handle.cancel();
    await clock.runFor(100);
    expect(ticks).to.equal(5);
  });
});

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed, and stays in range', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 100 }, () => a.int(3, 9));
    expect(Array.from({ length: 100 }, () => b.int(3, 9))).to.deep.equal(xs);
    expect(xs.every((x) => x >= 3 && x < 9)).to.equal(true);
    expect(new Set(xs).size).to.equal(6);
    expect(new SeededRandom(43).next()).to.not.equal(new SeededRandom(42).next());
  });
});

describe('memory storage crash semantics', () => {
  it('keeps across a crash only the writes whose promises resolved', async () => {
    const clock = new VirtualClock();
    const disk = new MemoryDisk({ clock, syncDelay: () => 5 });
    const log = new MemoryLogStore(disk);
    const stable = new MemoryStableStore(disk);
    const first = log.append([entry(1, 1, 'a'), entry(2, 1, 'b')]);
    await clock.runFor(5);
    await first;
    void log.append([entry(3, 1, 'c')]);
    void stable.save({ hardState: { term: 1, vote: 'x', commit: 2 }, confState: { voters: ['x'], learners: [] }, clusterId: 'c', memberId: 'x' });
    expect(log.lastIndex()).to.equal(3);
    disk.crash();
    await clock.runFor(50);
    const disk2 = new MemoryDisk({ clock });
    const log2 = log.recover(disk2);
    expect(log2.lastIndex()).to.equal(2);
    expect((await log2.entries(1, 3)).map((e) => e.index)).to.deep.equal([1, 2]);
    expect(await stable.recover(disk2).load()).to.equal(undefined);
  });

  it('log store: replaces a conflicting suffix, refuses gaps, compacts', async () => {
    const log = new MemoryLogStore();
    await log.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    await log.append([entry(2, 2)]);
    expect(log.lastIndex()).to.equal(2);
    expect(await log.term(2)).to.equal(2);
    let error: unknown;
    await log.append([entry(5, 2)]).catch((e: unknown) => {
      error = e;
    });
    expect(error).to.be.instanceOf(RangeError);
    await log.compactTo(1, 1);
    expect(log.firstIndex()).to.equal(2);
    expect(await log.term(1)).to.equal(1);
    expect(await log.term(0)).to.equal(undefined);
    await log.compactTo(10, 4);
    expect([log.firstIndex(), log.lastIndex(), await log.term(10)]).to.deep.equal([11, 10, 4]);
  });

  it('snapshot store: the most recently saved is the latest, verified on open, only durable ones survive', async () => {
    const clock = new VirtualClock();
    const disk = new MemoryDisk({ clock, syncDelay: () => 3 });
    const store = new MemorySnapshotStore(disk);
    const meta = (index: number) => ({ index, term: 1, confState: { voters: ['a'], learners: [] } });
    const saved = store.save(meta(5), chunks('hel', 'lo'));
    await clock.runFor(3);
    await saved;
    const latest = await store.latest();
    expect(latest?.meta.index).to.equal(5);
    expect(await collect(latest!.read())).to.equal('hello');
    // Order of saving wins over index: a member installs the snapshot it saved last.
    const higher = store.save(meta(7), chunks('seven'));
    await clock.runFor(3);
    await higher;
    const lower = store.save(meta(6), chunks('six'));
    await clock.runFor(3);
    await lower;
    expect((await store.latest())?.meta.index).to.equal(6);
    expect(store.list().map((m) => m.index)).to.deep.equal([6, 7]);
    void store.save(meta(9), chunks('lost'));
    await clock.runFor(1);
    disk.crash();
    const recovered = store.recover(new MemoryDisk());
    expect((await recovered.latest())?.meta.index).to.equal(6);
    recovered.corruptLatest();
    let error: unknown;
    await recovered.latest().catch((e: unknown) => {
      error = e;
    });
    expect(String(error)).to.match(/corrupt/);
  });
});

describe('MemoryNetwork', () => {
  const setup = (faults = {}) => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, random: new SeededRandom(7), faults });
    const inbox: Record<string, number[]> = { a: [], b: [] };
    const peers = new Map([
      ['a', []],
      ['b', []],
    ] as [string, string[]][]);
    const ends = ['a', 'b'].map((id) => {
      const t = network.transport();
      void t.start(id, {
        onMessage: (m) => inbox[id]!.push(m.index),
        onSnapshot: async (_m, data) => {
          inbox[id]!.push((await collect(data)).length);
        },
      });
      t.setPeers(peers);
      return t;
    });
    return { clock, network, inbox, a: ends[0]!, b: ends[1]! };
  };

  it('delivers in order per link unless reordering is on', async () => {
    const { clock, a, inbox } = setup({ minDelayMs: 1, maxDelayMs: 20 });
    a.send([1, 2, 3, 4, 5, 6].map((i) => msg('a', 'b', i)));
    await clock.runFor(200);
    expect(inbox.b).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('reorders, duplicates and drops when told to', async () => {
    const { clock, a, inbox, network } = setup({ minDelayMs: 1, maxDelayMs: 50, reorder: true, duplicateRate: 0.3, dropRate: 0.2 });
    const sent = Array.from({ length: 200 }, (_, i) => i);
    a.send(sent.map((i) => msg('a', 'b', i)));
    await clock.runFor(200);
    const got = inbox.b!;
    expect(network.stats.dropped).to.be.greaterThan(0);
    expect(network.stats.duplicated).to.be.greaterThan(0);
    expect(got.length).to.equal(network.stats.delivered);
    expect(got.some((x, i) => i > 0 && x < got[i - 1]!)).to.equal(true);
  });

  it('cuts links one way (asymmetric partition) and heals', async () => {
    const { clock, a, b, inbox, network } = setup();
    network.block('a', 'b');
    a.send([msg('a', 'b', 1)]);
    b.send([msg('b', 'a', 2)]);
    await clock.runFor(10);
    expect(inbox).to.deep.equal({ a: [2], b: [] });
    network.heal();
    a.send([msg('a', 'b', 3)]);
    await clock.runFor(10);
    expect(inbox.b).to.deep.equal([3]);
  });

  it('carries snapshot streams and reports failures across a partition', async () => {
    const { clock, a, inbox, network } = setup({ minDelayMs: 1, maxDelayMs: 1 });
    const snap = { ...msg('a', 'b', 0), type: MessageType.Snap };
    const ok = a.sendSnapshot(snap, chunks('abc', 'de'));
    await clock.runFor(10);
    await ok;
    expect(inbox.b).to.deep.equal([5]);
    network.partition([['a'], ['b']]);
    let error: unknown;
    const failed = a.sendSnapshot(snap, chunks('x')).catch((e: unknown) => {
      error = e;
    });
    await clock.runFor(10);
    await failed;
    expect(String(error)).to.match(/unreachable/);
  });
});
