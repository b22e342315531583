import { expect } from 'chai';
import { minLeaseTtl } from '../../src/api/lease-types.js';
import type { LeaseService } from '../../src/api/services.js';
import { type TestMember } from '../node/cluster-harness.js';
import { assembledCluster, clusterMemberIds } from '../node/assembled-cluster.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const TOKEN = 'lease-test';
const IDS = clusterMemberIds(TOKEN);

/** Three members assembled as `cairn` is, on the harness's virtual clock, memory network and memory stores. */
async function leaseCluster() {
  const { cluster, services, leader } = await assembledCluster(TOKEN);
  const run = <T>(p: Promise<T>): Promise<T> => cluster.clock.settle(p, 10_000);
  const lease = (m: TestMember): LeaseService => services.get(m.id)!.lease!;
  const followers = (): TestMember[] => [...cluster.members.values()].filter((m) => m.id !== cluster.leader()?.id);
  const leasesOn = async (m: TestMember): Promise<bigint[]> => [...(await run(lease(m).leases())).leases];
  const keyOn = async (m: TestMember, key: string): Promise<number> =>
    (await run(services.get(m.id)!.kv.range({ key: bytes(key), serializable: true }))).kvs.length;
  return { cluster, services, leader, run, lease, followers, leasesOn, keyOn };
}

describe('leases on a 3-member cluster (virtual time)', function () {
  this.timeout(60_000);

  it('the minimum TTL follows the election timeout as etcd computes it', () => {
    expect(minLeaseTtl(1000, 100)).to.equal(2);
    expect(minLeaseTtl(100, 10)).to.equal(1);
    expect(minLeaseTtl(5000, 500)).to.equal(8);
  });

  it('grants through a follower with the ID its proposer chose, keeps alive through a follower, then expires through Raft on every member', async () => {
    const c = await leaseCluster();
    const [follower] = c.followers();
    const granted = await c.run(c.lease(follower!).grant(2, 0n));
    expect(granted.ttl).to.equal(2);
    expect(granted.id > 0n).to.equal(true);
    await c.run(c.services.get(follower!.id)!.kv.put({ key: bytes('k'), value: bytes('v'), lease: granted.id }));
    await c.cluster.clock.runFor(100);
    for (const m of c.cluster.members.values()) expect(await c.leasesOn(m)).to.deep.equal([granted.id]);

    // Ten seconds of keep-alives, each sent to the follower: five TTLs, and the lease lives on.
    for (let i = 0; i < 20; i++) {
      expect((await c.run(c.lease(follower!).keepAlive(granted.id))).ttl).to.equal(2);
      await c.cluster.clock.runFor(500);
    }
    const ttl = await c.run(c.lease(follower!).timeToLive(granted.id, true));
    expect(ttl.grantedTtl).to.equal(2);
    expect(ttl.ttl).to.be.within(1, 2);
    expect(ttl.keys.map((k) => Buffer.from(k).toString())).to.deep.equal(['k']);

    // Not kept alive, it expires after its TTL: the leader's revoke is applied everywhere, its key with it.
    await c.cluster.clock.runFor(2_600);
    for (const m of c.cluster.members.values()) {
      expect(await c.leasesOn(m)).to.deep.equal([]);
      expect(await c.keyOn(m, 'k')).to.equal(0);
    }
    expect((await c.run(c.lease(follower!).timeToLive(granted.id, false))).ttl).to.equal(-1);
    expect((await c.run(c.lease(follower!).keepAlive(granted.id))).ttl).to.equal(0);
    expect((await c.run(c.lease(c.leader).keepAlive(granted.id))).ttl).to.equal(0);
    await c.cluster.stop();
  });

  it('a keep-alive sent to a follower is answered by the leader outside the log: 20 of them add no entry', async () => {
    const c = await leaseCluster();
    const [follower] = c.followers();
    const granted = await c.run(c.lease(c.leader).grant(5, 0n));
    await c.cluster.clock.runFor(100);
    const lastIndex = c.leader.node.status().lastIndex;
    for (let i = 0; i < 20; i++) expect((await c.run(c.lease(follower!).keepAlive(granted.id))).ttl).to.equal(5);
    // Renewed long before its first checkpoint is due: nothing to clear, no entry at all.
    expect(c.leader.node.status().lastIndex).to.equal(lastIndex);
    expect((await c.run(c.lease(follower!).keepAlive(123n))).ttl).to.equal(0);
    await c.cluster.stop();
  });

  it('only the leader expires leases: an isolated follower keeps the lease and its key until the revoke reaches it through the log', async () => {
    const c = await leaseCluster();
    const granted = await c.run(c.lease(c.leader).grant(2, 0n));
    await c.run(c.services.get(c.leader.id)!.kv.put({ key: bytes('k'), value: bytes('v'), lease: granted.id }));
    const [cut] = c.followers();
    await c.cluster.clock.runFor(100);
    c.cluster.network.isolate(
      cut!.id,
      IDS.filter((id) => id !== cut!.id),
    );
    await c.cluster.clock.runFor(3_000);
    expect(await c.leasesOn(c.leader)).to.deep.equal([]);
    expect(await c.keyOn(c.leader, 'k')).to.equal(0);
    // Its own clock ran past the TTL too, but a follower decides nothing.
    expect(await c.leasesOn(cut!)).to.deep.equal([granted.id]);
    expect(await c.keyOn(cut!, 'k')).to.equal(1);
    c.cluster.network.heal();
    await c.cluster.clock.runFor(1_000);
    expect(await c.leasesOn(cut!)).to.deep.equal([]);
    expect(await c.keyOn(cut!, 'k')).to.equal(0);
    await c.cluster.stop();
  });

  it('a leader change before any checkpoint restarts every lease at its full TTL (plus an election timeout): none expires in a storm, then they expire unrenewed', async () => {
    const c = await leaseCluster();
    const ids: bigint[] = [];
    for (let i = 0; i < 20; i++) ids.push((await c.run(c.lease(c.leader).grant(3, 0n))).id);
    // 2.6 s without keep-alives: by the old leader's clock every lease has 0.4 s left.
    await c.cluster.clock.runFor(2_600);
    const old = c.leader;
    c.cluster.network.isolate(
      old.id,
      IDS.filter((id) => id !== old.id),
    );
    const majority = [...c.cluster.members.values()].filter((m) => m.id !== old.id);
    await c.cluster.runUntil(() =>
      majority.every((m) => m.node.currentLeader() !== old.id && m.node.currentLeader() === majority.find((x) => x.node.status().role === 'leader')?.id),
    );
    const next = majority.find((m) => m.node.status().role === 'leader')!;
    expect(next).to.not.equal(undefined);
    const electedAt = c.cluster.clock.now();
    // Well past the old leader's deadline: nothing expired on the new majority.
    await c.cluster.clock.runFor(2_000);
    expect((await c.leasesOn(next)).length).to.equal(20);
    const left = await c.run(c.lease(next).timeToLive(ids[0]!, false));
    expect(left.ttl).to.be.within(0, 3);
    // Unrenewed, they go once the new clock runs out: 3 s + the election timeout after the election.
    await c.cluster.clock.runUntil(electedAt + 3_100 + 500);
    expect(await c.leasesOn(next)).to.deep.equal([]);
    await c.cluster.stop();
  });

  it("a follower reports what is really left: the leader's clock, keep-alives on the leader included", async () => {
    const c = await leaseCluster();
    const granted = await c.run(c.lease(c.leader).grant(3, 0n));
    for (let i = 0; i < 12; i++) {
      await c.run(c.lease(c.leader).keepAlive(granted.id));
      await c.cluster.clock.runFor(500);
    }
    const [follower] = c.followers();
    // 6 s after the grant, 0.5 s after the last keep-alive: about 2.5 s left, not 0.
    expect((await c.run(c.lease(follower!).timeToLive(granted.id, false))).ttl).to.be.within(1, 3);
    await c.cluster.stop();
  });

  it("answers unknown leases and bad grants with etcd's values and errors", async () => {
    const c = await leaseCluster();
    const [follower] = c.followers();
    for (const m of [c.leader, follower!]) {
      const ttl = await c.run(c.lease(m).timeToLive(0x1234n, true));
      expect([ttl.id, ttl.ttl, ttl.grantedTtl, ttl.keys.length]).to.deep.equal([0x1234n, -1, 0, 0]);
      expect((await c.run(c.lease(m).keepAlive(0x1234n))).ttl).to.equal(0);
      const revoke = await c.run(
        c
          .lease(m)
          .revoke(0x1234n)
          .then(
            () => 'revoked',
            (e: Error) => e.message,
          ),
      );
      expect(revoke).to.equal('etcdserver: requested lease not found');
    }
    const big = await c.run(
      c
        .lease(c.leader)
        .grant(9_000_000_001, 0n)
        .then(
          () => 'granted',
          (e: Error) => e.message,
        ),
    );
    expect(big).to.equal('etcdserver: too large lease TTL');
    expect((await c.run(c.lease(follower!).grant(0, 77n))).ttl).to.equal(1);
    const dup = await c.run(
      c
        .lease(c.leader)
        .grant(5, 77n)
        .then(
          () => 'granted',
          (e: Error) => e.message,
        ),
    );
    expect(dup).to.equal('etcdserver: lease already exists');
    await c.cluster.stop();
  });
});
