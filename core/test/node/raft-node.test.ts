import { expect } from 'chai';
import { encodeRegisterCommand } from '../../src/testkit/simulator/register-state-machine.js';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { TestCluster } from './cluster-harness.js';

const A = '000000000000000a';
const B = '000000000000000b';
const C = '000000000000000c';

describe('RaftNode driver on the memory ports', () => {
  it('a single member elects itself, logs "became leader" and applies proposals', async () => {
    const cluster = new TestCluster([A]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    expect(leader.id).to.equal(A);
    expect(cluster.logger.find('became leader')).to.have.length(1);
    const result = await cluster.write(leader, 'k', 'v1');
    expect(result).to.deep.equal({ kind: 'write' });
    expect(leader.sm.get('k')).to.equal('v1');
    let read = false;
    const index = leader.node.readIndex().then((i) => {
      read = true;
      return i;
    });
    await cluster.runUntil(() => read);
    expect(await index).to.be.at.least(leader.node.status().commit - 1);
    await cluster.stop();
  });

  it("three members replicate; a follower's proposal is forwarded and answered with its apply result", async () => {
    const cluster = new TestCluster([A, B, C]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.members.values()].find((m) => m !== leader)!;
    expect(await cluster.write(follower, 'x', '1')).to.deep.equal({ kind: 'write' });
    let answer: unknown;
    void follower.node.propose(encodeRegisterCommand({ op: 'cas', key: 'x', expected: '1', value: '2' })).then((r) => {
      answer = r;
    });
    await cluster.runUntil(() => answer !== undefined);
    expect(answer).to.deep.equal({ kind: 'cas', ok: true });
    await cluster.runUntil(() => [...cluster.members.values()].every((m) => m.sm.get('x') === '2'));
    for (const m of cluster.members.values()) expect(m.sm.get('x')).to.equal('2');
    await cluster.stop();
  });

  it('puts the proposals of one turn of the event loop into one append', async () => {
    const cluster = new TestCluster([A, B, C]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.write(leader, 'warm', 'up');
    const batches: number[] = [];
    leader.log.appendObserver = (_prev, entries) => batches.push(entries.length);
    const before = leader.log.appendCalls;
    const all = Promise.all(Array.from({ length: 20 }, (_, i) => leader.node.propose(encodeRegisterCommand({ op: 'write', key: 'k', value: String(i) }))));
    let done = false;
    void all.then(() => {
      done = true;
    });
    await cluster.runUntil(() => done);
    expect(leader.log.appendCalls - before).to.equal(1);
    expect(batches).to.deep.equal([20]);
    await cluster.stop();
  });

  it('rejects with etcd\'s errors: "no leader" when none is known, "request timed out" when cut off', async () => {
    const cluster = new TestCluster([A, B, C]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.members.values()].find((m) => m !== leader)!;
    // Cut the follower off: it still believes in the leader, but nothing it forwards arrives.
    cluster.network.isolate(follower.id, [A, B, C]);
    let timedOut: unknown;
    void follower.node.propose(encodeRegisterCommand({ op: 'write', key: 'k', value: 'lost' })).catch((e: unknown) => {
      timedOut = e;
    });
    await cluster.runUntil(() => timedOut !== undefined, 600);
    expect(String((timedOut as Error | undefined)?.message)).to.match(/^etcdserver: (request timed out|no leader)$/);
    // Long enough for its election timeout: with pre-vote it never gets a leader back.
    await cluster.clock.runFor(2_000);
    let noLeader: unknown;
    void follower.node.propose(encodeRegisterCommand({ op: 'write', key: 'k', value: 'x' })).catch((e: unknown) => {
      noLeader = e;
    });
    await cluster.runUntil(() => noLeader !== undefined);
    expect((noLeader as Error).message).to.equal('etcdserver: no leader');
    await cluster.stop();
  });

  it('resumes after a restart without applying again what the state machine holds', async () => {
    const cluster = new TestCluster([A]);
    await cluster.start();
    const m = cluster.member(A);
    await cluster.waitForLeader();
    for (let i = 0; i < 5; i++) await cluster.write(m, 'k', `v${i}`);
    await m.sm.flush();
    const applied = m.node.appliedIndex();
    await m.node.stop();
    await cluster.clock.runFor(10);
    const disk = new MemoryDisk({ clock: cluster.clock, syncDelay: () => 1 });
    Object.assign(m, {
      disk,
      log: m.log.recover(disk),
      stable: m.stable.recover(disk),
      snapshots: m.snapshots.recover(disk),
      sm: m.sm.recover(),
    });
    m.node = cluster.newNode(m);
    await m.node.start();
    await cluster.waitForLeader();
    expect(m.sm.applyCalls).to.equal(0);
    expect(m.sm.get('k')).to.equal('v4');
    await cluster.write(m, 'k', 'after');
    expect(m.sm.applyCalls).to.equal(1);
    expect(m.node.appliedIndex()).to.be.greaterThan(applied);
    await cluster.stop();
  });

  it('replays, after a crash, exactly the entries the state machine had not flushed', async () => {
    const cluster = new TestCluster([A]);
    await cluster.start();
    const m = cluster.member(A);
    await cluster.waitForLeader();
    await cluster.write(m, 'k', 'flushed');
    await m.sm.flush();
    await cluster.write(m, 'k', 'unflushed-1');
    await cluster.write(m, 'j', 'unflushed-2');
    m.node.halt();
    m.disk.crash();
    const disk = new MemoryDisk({ clock: cluster.clock, syncDelay: () => 1 });
    Object.assign(m, {
      disk,
      log: m.log.recover(disk),
      stable: m.stable.recover(disk),
      snapshots: m.snapshots.recover(disk),
      sm: m.sm.recover(),
    });
    expect(m.sm.get('k')).to.equal('flushed');
    m.node = cluster.newNode(m);
    await m.node.start();
    await cluster.runUntil(() => m.sm.get('j') === 'unflushed-2');
    expect(m.sm.get('k')).to.equal('unflushed-1');
    expect(m.sm.applyCalls).to.equal(2);
    await cluster.stop();
  });

  it('sends a snapshot to a member that fell behind the compacted log', async () => {
    const cluster = new TestCluster([A, B, C], { snapshotCount: 5, snapshotCatchUpEntries: 0 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const lagging = [...cluster.members.values()].find((m) => m !== leader)!;
    cluster.network.isolate(lagging.id, [A, B, C]);
    for (let i = 0; i < 25; i++) await cluster.write(leader, `k${i % 3}`, `v${i}`);
    expect(leader.log.firstIndex()).to.be.greaterThan(2);
    cluster.network.heal();
    await cluster.runUntil(() => lagging.sm.get('k0') === leader.sm.get('k0') && lagging.node.appliedIndex() === leader.node.appliedIndex());
    expect(cluster.network.stats.snapshotsSent).to.be.greaterThan(0);
    expect(lagging.snapshots.list().length).to.be.greaterThan(0);
    for (const k of ['k0', 'k1', 'k2']) expect(lagging.sm.get(k)).to.equal(leader.sm.get(k));
    // And it keeps replicating normally afterwards.
    await cluster.write(leader, 'after', 'snap');
    await cluster.runUntil(() => lagging.sm.get('after') === 'snap');
    expect(lagging.sm.get('after')).to.equal('snap');
    await cluster.stop();
  });
});
