import { expect } from 'chai';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { RegisterStateMachine } from '../../src/testkit/simulator/register-state-machine.js';
import { TestCluster } from './cluster-harness.js';

const A = '000000000000000a';
/** 10 ms ticks: an election timeout of 10 s, so a member that waited one could not pass. */
const ELECTION_TICK = 1_000;
const WELL_WITHIN_MS = 100;

describe('a lone voter campaigns at once (it has nobody to wait for)', () => {
  it('on its first start, whose bootstrap membership entries are committed but not applied yet', async () => {
    const cluster = new TestCluster([A], { raft: { electionTick: ELECTION_TICK, heartbeatTick: 1 } });
    const startedAt = cluster.clock.now();
    await cluster.start();
    expect(await cluster.runUntil(() => cluster.leader() !== undefined, WELL_WITHIN_MS)).to.equal(true);
    expect(cluster.clock.now() - startedAt).to.be.below(WELL_WITHIN_MS);
    await cluster.stop();
  });

  it('after a crash that left the state machine behind the membership entries', async () => {
    const cluster = new TestCluster([A], { raft: { electionTick: ELECTION_TICK, heartbeatTick: 1 } });
    await cluster.start();
    await cluster.runUntil(() => cluster.leader() !== undefined, WELL_WITHIN_MS);
    const m = cluster.member(A);
    await cluster.write(m, 'k', 'v');
    // The state machine lost everything (never flushed): it restarts at applied 0, the bootstrap entry to apply again.
    m.node.halt();
    m.disk.crash();
    const disk = new MemoryDisk({ clock: cluster.clock, syncDelay: () => 1 });
    Object.assign(m, { disk, log: m.log.recover(disk), stable: m.stable.recover(disk), snapshots: m.snapshots.recover(disk), sm: new RegisterStateMachine() });
    expect(await m.sm.appliedIndex()).to.equal(0);
    m.node = cluster.newNode(m);
    const restartedAt = cluster.clock.now();
    await cluster.clock.settle(m.node.start());
    expect(await cluster.runUntil(() => m.node.status().role === 'leader', WELL_WITHIN_MS)).to.equal(true);
    expect(cluster.clock.now() - restartedAt).to.be.below(WELL_WITHIN_MS);
    await cluster.runUntil(() => m.sm.get('k') === 'v');
    expect(m.sm.get('k')).to.equal('v');
    await cluster.stop();
  });
});
