import { expect } from 'chai';
import type { LeaseService } from '../../src/api/services.js';
import type { TestMember } from '../node/cluster-harness.js';
import { assembledCluster, clusterMemberIds } from '../node/assembled-cluster.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const TOKEN = 'lease-checkpoint-test';
const IDS = clusterMemberIds(TOKEN);
/** The harness's Raft timing (assembled-cluster.ts): 10 ms heartbeats, 100 ms elections. */
const ELECTION_MS = 100;
/** How often the leader's lessor looks for expired leases: a revoke is proposed at most this long after the deadline. */
const CHECK_MS = 250;

/** Three members assembled as `cairn` is (checkpoints on, every 5 s by default), on virtual time. */
async function checkpointCluster(extra: Readonly<Record<string, unknown>> = {}) {
  const { cluster, services, leader } = await assembledCluster(TOKEN, extra);
  const run = <T>(p: Promise<T>): Promise<T> => cluster.clock.settle(p, 10_000);
  const lease = (m: TestMember): LeaseService => services.get(m.id)!.lease!;
  const hasKey = async (m: TestMember, key: string): Promise<boolean> =>
    (await run(services.get(m.id)!.kv.range({ key: bytes(key), serializable: true }))).kvs.length > 0;
  /** Cut the leader off from the others; resolves with the leader the majority elects. */
  const cutLeaderOff = async (): Promise<TestMember> => {
    const old = cluster.leader()!;
    cluster.network.isolate(
      old.id,
      IDS.filter((id) => id !== old.id),
    );
    const majority = [...cluster.members.values()].filter((m) => m.id !== old.id);
    const elected = (): TestMember | undefined => majority.find((m) => m.node.status().role === 'leader');
    await cluster.runUntil(() => elected() !== undefined && majority.every((m) => m.node.currentLeader() === elected()!.id));
    return elected()!;
  };
  /** Run virtual time in 10 ms steps until `key` is gone on `m`: the time it went. */
  const goneAt = async (m: TestMember, key: string, withinMs: number): Promise<number | undefined> => {
    const until = cluster.clock.now() + withinMs;
    while (cluster.clock.now() < until) {
      if (!(await hasKey(m, key))) return cluster.clock.now();
      await cluster.clock.runFor(10);
    }
    return undefined;
  };
  /** Grant on the leader with a key attached; the lease's deadline is TTL after the grant applied there, between the two times returned. */
  const grantWithKey = async (ttl: number, key: string) => {
    const leader = cluster.leader()!;
    const asked = cluster.clock.now();
    const granted = await run(lease(leader).grant(ttl, 0n));
    const answered = cluster.clock.now();
    await run(services.get(leader.id)!.kv.put({ key: bytes(key), value: bytes('v'), lease: granted.id }));
    return { id: granted.id, earliest: asked + ttl * 1000, latest: answered + ttl * 1000 };
  };
  return { cluster, services, leader, run, lease, hasKey, cutLeaderOff, goneAt, grantWithKey };
}

describe('lease checkpoints across leader changes (virtual time)', function () {
  this.timeout(60_000);

  it('a lease with 20 s left when the leader is cut off has 20 s left on the new leader, and goes at its original deadline', async () => {
    const c = await checkpointCluster();
    const granted = await c.grantWithKey(60, 'k');
    await c.cluster.clock.runUntil(granted.earliest - 20_000);
    const next = await c.cutLeaderOff();
    const now = c.cluster.clock.now();
    const left = await c.run(c.lease(next).timeToLive(granted.id, true));
    // Whole seconds, truncated, as etcd reports them: within one election timeout of the old leader's clock.
    expect(left.ttl).to.be.within(Math.trunc((granted.earliest - now - ELECTION_MS) / 1000), Math.trunc((granted.latest - now + ELECTION_MS) / 1000));
    expect(left.ttl).to.be.below(21);
    expect(left.grantedTtl).to.equal(60);
    expect(left.keys.map((k) => Buffer.from(k).toString())).to.deep.equal(['k']);
    // A follower of the new leader asks it, and hears the same.
    const follower = [...c.cluster.members.values()].find((m) => m.id !== next.id && m.node.currentLeader() === next.id)!;
    expect((await c.run(c.lease(follower).timeToLive(granted.id, false))).ttl).to.equal(left.ttl);

    const gone = await c.goneAt(next, 'k', 30_000);
    expect(gone, 'the leased key never went').to.not.equal(undefined);
    expect(gone!).to.be.at.least(granted.earliest);
    expect(gone!).to.be.at.most(granted.latest + ELECTION_MS + CHECK_MS);
    await c.cluster.stop();
  });

  it("without checkpoints (--experimental-enable-lease-checkpoint=false, etcd's default) the new leader gives it its whole TTL again", async () => {
    const c = await checkpointCluster({ 'experimental-enable-lease-checkpoint': false });
    const granted = await c.grantWithKey(60, 'k');
    await c.cluster.clock.runUntil(granted.earliest - 20_000);
    const next = await c.cutLeaderOff();
    expect((await c.run(c.lease(next).timeToLive(granted.id, false))).ttl).to.be.at.least(59);
    await c.cluster.clock.runFor(25_000);
    expect(await c.hasKey(next, 'k')).to.equal(true);
    await c.cluster.stop();
  });

  it('a lease renewed after its checkpoints is not cut short by the next leader (renewed on the leader, or through a follower)', async () => {
    const c = await checkpointCluster();
    const onLeader = await c.grantWithKey(60, 'renewed-on-leader');
    const viaFollower = await c.grantWithKey(60, 'renewed-via-follower');
    // Checkpointed every 5 s: by now each record says about 30 s are left.
    await c.cluster.clock.runFor(30_000);
    const leader = c.cluster.leader()!;
    const follower = [...c.cluster.members.values()].find((m) => m.id !== leader.id)!;
    expect((await c.run(c.lease(leader).keepAlive(onLeader.id))).ttl).to.equal(60);
    expect((await c.run(c.lease(follower).keepAlive(viaFollower.id))).ttl).to.equal(60);
    const renewedAt = c.cluster.clock.now();

    // The leader goes at once: the next one must not hold the checkpoints of before the renewals.
    const next = await c.cutLeaderOff();
    for (const id of [onLeader.id, viaFollower.id]) expect((await c.run(c.lease(next).timeToLive(id, false))).ttl).to.be.at.least(58);
    // Past the deadline the checkpoints implied, both keys are there.
    await c.cluster.clock.runUntil(onLeader.latest + 5_000);
    expect(await c.hasKey(next, 'renewed-on-leader')).to.equal(true);
    expect(await c.hasKey(next, 'renewed-via-follower')).to.equal(true);
    // And they go a TTL after the renewal, not later than the new leader's takeover allows.
    const gone = await c.goneAt(next, 'renewed-on-leader', 40_000);
    expect(gone).to.not.equal(undefined);
    expect(gone!).to.be.at.least(renewedAt + 60_000);
    await c.cluster.stop();
  });

  it('two leader changes in a row: the deadline holds through both', async () => {
    const c = await checkpointCluster();
    const granted = await c.grantWithKey(30, 'k');
    await c.cluster.clock.runUntil(granted.earliest - 20_000);
    await c.cutLeaderOff();
    // Heal, let the cut member catch up, then cut the second leader off too.
    c.cluster.network.heal();
    await c.cluster.clock.runUntil(granted.earliest - 12_000);
    const third = await c.cutLeaderOff();
    const gone = await c.goneAt(third, 'k', 30_000);
    expect(gone).to.not.equal(undefined);
    expect(gone!).to.be.at.least(granted.earliest);
    expect(gone!).to.be.at.most(granted.latest + ELECTION_MS + CHECK_MS);
    await c.cluster.stop();
  });
});
