import { expect } from 'chai';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { encodeRegisterCommand, RegisterStateMachine } from '../../src/testkit/simulator/register-state-machine.js';
import { TestCluster, type NodeOverrides, type TestMember } from './cluster-harness.js';

const A = '000000000000000a';
const B = '000000000000000b';
const C = '000000000000000c';

const COMPACTION: NodeOverrides = { snapshotCount: 5, snapshotCatchUpEntries: 2 };

/** Every index a member's state machine applies (across restarts), and the payloads it applied. */
function watchApplies(cluster: TestCluster, m: TestMember): number[] {
  const applied: number[] = [];
  m.sm = m.sm.recover((index) => applied.push(index));
  m.node = cluster.newNode(m);
  return applied;
}

/** Stop a member as a crash would (only what its disk made durable survives) or cleanly (every write it issued lands). */
async function takeDown(cluster: TestCluster, m: TestMember, how: 'crash' | 'stop'): Promise<void> {
  if (how === 'crash') {
    m.node.halt();
    m.disk.crash();
  } else {
    await cluster.clock.settle(m.node.stop());
    await cluster.clock.runFor(10);
  }
}

/** Start a member again on what its stores made durable, with a state machine holding what it flushed. */
async function bringBack(cluster: TestCluster, m: TestMember): Promise<void> {
  const disk = new MemoryDisk({ clock: cluster.clock, syncDelay: () => 1 });
  Object.assign(m, { disk, log: m.log.recover(disk), stable: m.stable.recover(disk), snapshots: m.snapshots.recover(disk), sm: m.sm.recover() });
  m.node = cluster.newNode(m);
  await cluster.clock.settle(m.node.start());
}

async function restart(cluster: TestCluster, m: TestMember, how: 'crash' | 'stop'): Promise<void> {
  await takeDown(cluster, m, how);
  await bringBack(cluster, m);
}

async function writeMany(cluster: TestCluster, via: TestMember, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) await cluster.write(via, `k${i % 3}`, `${prefix}${i}`);
}

/** A LogStore that crashes its member at the first compaction once armed (before the compaction is durable). */
class CrashingLogStore extends MemoryLogStore {
  armed: (() => void) | undefined;

  override compactTo(index: number, term: number): Promise<void> {
    const crash = this.armed;
    this.armed = undefined;
    crash?.();
    return super.compactTo(index, term);
  }
}

describe('RaftNode: log compaction without copying the state, snapshots built on demand', () => {
  it("compacts every member's log during normal operation and saves no snapshot anywhere", async () => {
    const cluster = new TestCluster([A, B, C], COMPACTION);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await writeMany(cluster, leader, 40, 'v');
    await cluster.runUntil(() => [...cluster.members.values()].every((m) => m.node.appliedIndex() === leader.node.appliedIndex()));
    for (const m of cluster.members.values()) {
      expect(m.log.firstIndex(), `${m.id} compacted its log`).to.be.greaterThan(30);
      expect(m.snapshots.saveCalls, `${m.id} saved snapshots`).to.equal(0);
      expect(m.snapshots.list()).to.deep.equal([]);
      // Kept behind the compaction point for slightly lagging followers.
      expect(m.log.lastIndex() - m.log.firstIndex() + 1).to.be.at.least(2);
    }
    expect(cluster.network.stats.snapshotsSent).to.equal(0);
    await cluster.stop();
  });

  it("a member that was down while the leader compacted catches up by one snapshot of the leader's current state, then by entries", async () => {
    const cluster = new TestCluster([A, B, C], COMPACTION);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const down = [...cluster.members.values()].find((m) => m !== leader)!;
    await writeMany(cluster, leader, 3, 'before');
    await cluster.runUntil(() => down.node.appliedIndex() === leader.node.appliedIndex());
    await takeDown(cluster, down, 'crash');
    const lastBefore = down.log.lastIndex();
    await writeMany(cluster, leader, 30, 'while-down');
    // Stop where the leader's applied index is past its last compaction point (what its Raft names).
    const compactionPoint = (): number => leader.log.firstIndex() - 1 + 2;
    while (leader.node.appliedIndex() === compactionPoint()) await cluster.write(leader, 'k0', 'one-more');
    expect(leader.log.firstIndex(), 'the leader compacted past what the member has').to.be.greaterThan(lastBefore + 1);

    await bringBack(cluster, down);
    await cluster.runUntil(() => down.node.appliedIndex() === leader.node.appliedIndex());
    expect(down.node.appliedIndex()).to.equal(leader.node.appliedIndex());
    expect(cluster.network.stats.snapshotsSent).to.equal(1);
    expect(down.snapshots.saveCalls).to.equal(1);
    // It is the leader's state as of its applied index when sent (no writes since), named by that
    // index and its term, past the compaction point Raft asked for.
    const stored = down.snapshots.list()[0]!;
    expect(stored.index).to.equal(leader.node.appliedIndex());
    expect(stored.index).to.be.greaterThan(compactionPoint());
    expect(stored.term).to.equal(leader.node.status().term);
    expect(stored.confState.voters).to.deep.equal([A, B, C]);
    for (const k of ['k0', 'k1', 'k2']) expect(down.sm.get(k)).to.equal(leader.sm.get(k));
    expect(leader.snapshots.saveCalls, 'the leader stored nothing to send it').to.equal(0);

    // From here on, entries: no second snapshot, each write applied once.
    const callsBefore = down.sm.applyCalls;
    await writeMany(cluster, leader, 4, 'after');
    await cluster.runUntil(() => down.node.appliedIndex() === leader.node.appliedIndex());
    expect(down.sm.applyCalls - callsBefore).to.equal(4);
    expect(cluster.network.stats.snapshotsSent).to.equal(1);
    expect(down.snapshots.saveCalls).to.equal(1);
    for (const k of ['k0', 'k1', 'k2']) expect(down.sm.get(k)).to.equal(leader.sm.get(k));
    await cluster.stop();
  });

  it('a restart after it compacted its own log past a snapshot it received keeps the log and resumes', async () => {
    const cluster = new TestCluster([A, B, C], COMPACTION);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const lagging = [...cluster.members.values()].find((m) => m !== leader)!;
    cluster.network.isolate(lagging.id, [A, B, C]);
    await writeMany(cluster, leader, 20, 'a');
    cluster.network.heal();
    await cluster.runUntil(() => lagging.node.appliedIndex() === leader.node.appliedIndex());
    expect(lagging.snapshots.saveCalls).to.equal(1);
    const received = lagging.snapshots.list()[0]!;
    // It goes on by entries and compacts its own log well past the snapshot it holds.
    await writeMany(cluster, leader, 20, 'b');
    await cluster.runUntil(() => lagging.node.appliedIndex() === leader.node.appliedIndex());
    expect(lagging.log.firstIndex() - 1).to.be.greaterThan(received.index);
    const firstIndex = lagging.log.firstIndex();
    const lastIndex = lagging.log.lastIndex();
    await restart(cluster, lagging, 'stop');
    expect(lagging.log.firstIndex()).to.equal(firstIndex);
    expect(lagging.log.lastIndex()).to.equal(lastIndex);
    await writeMany(cluster, leader, 3, 'c');
    await cluster.runUntil(() => lagging.node.appliedIndex() === leader.node.appliedIndex());
    for (const k of ['k0', 'k1', 'k2']) expect(lagging.sm.get(k)).to.equal(leader.sm.get(k));
    expect(lagging.snapshots.saveCalls).to.equal(0); // a fresh store object after the restart: nothing new saved
    await cluster.stop();
  });

  for (const how of ['stop', 'crash'] as const) {
    it(`resumes exactly after a ${how === 'stop' ? 'clean stop' : 'crash'} that follows a log compaction: each entry applied once past what was flushed, none skipped`, async () => {
      const cluster = new TestCluster([A], COMPACTION);
      const m = cluster.member(A);
      const applied = watchApplies(cluster, m);
      await cluster.start();
      await cluster.waitForLeader();
      await writeMany(cluster, m, 13, 'v');
      expect(m.log.firstIndex()).to.be.greaterThan(1);
      // Some entries applied since the last flush, so there is something to replay.
      while ((await m.sm.recover().appliedIndex()) === m.node.appliedIndex()) await cluster.write(m, 'k0', 'one-more');
      const flushed = await m.sm.recover().appliedIndex();
      const last = m.node.appliedIndex();
      expect(flushed).to.be.within(m.log.firstIndex() - 1, last);
      const values = { k0: m.sm.get('k0'), k1: m.sm.get('k1'), k2: m.sm.get('k2') };
      const seen = applied.length;
      await restart(cluster, m, how);
      await cluster.waitForLeader();
      await cluster.runUntil(() => m.node.appliedIndex() >= last);
      // The replay starts right after what the state machine had made durable, with nothing twice.
      const replayed = applied.slice(seen);
      expect(replayed[0]).to.equal(flushed! + 1);
      for (let i = 1; i < replayed.length; i++) expect(replayed[i]).to.equal(replayed[i - 1]! + 1);
      expect({ k0: m.sm.get('k0'), k1: m.sm.get('k1'), k2: m.sm.get('k2') }).to.deep.equal(values);
      await cluster.write(m, 'k0', 'after');
      expect(m.sm.get('k0')).to.equal('after');
      await cluster.stop();
    });
  }

  it("resumes exactly after a crash between the state machine's flush and the log compaction", async () => {
    const cluster = new TestCluster([A], COMPACTION);
    const m = cluster.member(A);
    const log = new CrashingLogStore(m.disk);
    m.log = log;
    const applied = watchApplies(cluster, m);
    await cluster.start();
    await cluster.waitForLeader();
    await writeMany(cluster, m, 12, 'v');
    const compactedBefore = m.log.firstIndex() - 1;
    let crashedAt: { applied: number; logStart: number } | undefined;
    log.armed = () => {
      crashedAt = { applied: m.node.appliedIndex(), logStart: log.firstIndex() };
      m.node.halt();
      m.disk.crash();
    };
    for (let i = 0; crashedAt === undefined && i < 20; i++) {
      void m.node.propose(encodeRegisterCommand({ op: 'write', key: `k${i % 3}`, value: `w${i}` })).catch(() => undefined);
      await cluster.runUntil(() => crashedAt !== undefined, 50);
    }
    expect(crashedAt, 'crashed at a compaction').to.not.equal(undefined);
    const values = { k0: m.sm.get('k0'), k1: m.sm.get('k1'), k2: m.sm.get('k2') };
    // Flushed right before: durable at the applied index; the log was not compacted (on disk).
    expect(await m.sm.recover().appliedIndex()).to.equal(crashedAt!.applied);
    expect(m.log.recover(new MemoryDisk()).firstIndex()).to.equal(crashedAt!.logStart);
    expect(crashedAt!.logStart - 1).to.equal(compactedBefore);
    const seen = applied.length;
    await bringBack(cluster, m);
    await cluster.waitForLeader();
    expect(m.node.appliedIndex()).to.equal(crashedAt!.applied);
    expect({ k0: m.sm.get('k0'), k1: m.sm.get('k1'), k2: m.sm.get('k2') }).to.deep.equal(values);
    await cluster.write(m, 'k1', 'after');
    // Nothing of the old log applied again: only the new leader's no-op and the write.
    expect(applied.slice(seen)).to.deep.equal([crashedAt!.applied + 1, crashedAt!.applied + 2]);
    expect(m.sm.get('k1')).to.equal('after');
    // And it compacts again later, from the log as it was.
    await writeMany(cluster, m, 10, 'later');
    expect(m.log.firstIndex() - 1).to.be.greaterThan(compactedBefore);
    await cluster.stop();
  });
});

describe('RaftNode: a state machine restore that was cut short', () => {
  /** A register whose last restore was cut short by a crash: it holds no usable state until it restores. */
  class InterruptedRegister extends RegisterStateMachine {
    interrupted = true;
    restores = 0;

    override async appliedIndex(): Promise<number | undefined> {
      return this.interrupted ? undefined : super.appliedIndex();
    }

    override async restore(...args: Parameters<RegisterStateMachine['restore']>): Promise<void> {
      this.restores++;
      await super.restore(...args);
      this.interrupted = false;
    }
  }

  it('is restored again from the stored snapshot at start', async () => {
    const cluster = new TestCluster([A, B, C], { snapshotCount: 5, snapshotCatchUpEntries: 0 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const lagging = [...cluster.members.values()].find((m) => m !== leader)!;
    cluster.network.isolate(lagging.id, [A, B, C]);
    await writeMany(cluster, leader, 15, 'v');
    cluster.network.heal();
    await cluster.runUntil(() => lagging.node.appliedIndex() === leader.node.appliedIndex());
    expect(lagging.snapshots.saveCalls).to.equal(1);
    const installed = lagging.snapshots.list()[0]!;
    await cluster.clock.settle(lagging.node.stop());
    await cluster.clock.runFor(10);
    const disk = new MemoryDisk({ clock: cluster.clock, syncDelay: () => 1 });
    const register = new InterruptedRegister();
    Object.assign(lagging, {
      disk,
      log: lagging.log.recover(disk),
      stable: lagging.stable.recover(disk),
      snapshots: lagging.snapshots.recover(disk),
      sm: register,
    });
    lagging.node = cluster.newNode(lagging);
    await cluster.clock.settle(lagging.node.start());
    expect(register.restores).to.equal(1);
    expect(await register.appliedIndex()).to.be.at.least(installed.index);
    await cluster.write(leader, 'k0', 'after');
    await cluster.runUntil(() => lagging.sm.get('k0') === 'after');
    for (const k of ['k0', 'k1', 'k2']) expect(lagging.sm.get(k)).to.equal(leader.sm.get(k));
    await cluster.stop();
  });

  it('refuses to start, saying why, when no stored snapshot is left to restore it from', async () => {
    const cluster = new TestCluster([A]);
    const m = cluster.member(A);
    m.sm = new InterruptedRegister();
    m.node = cluster.newNode(m);
    let error: unknown;
    await cluster.clock.settle(
      m.node.start().catch((e: unknown) => {
        error = e;
      }),
    );
    expect(String(error)).to.match(/restore was cut short and no stored snapshot is left/);
  });
});
