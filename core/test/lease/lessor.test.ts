import { expect } from 'chai';
import { LeaseApplier } from '../../src/lease/lease-applier.js';
import type { LeaseCommand } from '../../src/lease/lease-command.js';
import { LeaseStore } from '../../src/lease/lease-store.js';
import { Lessor } from '../../src/lease/lessor.js';
import { RenewalBatcher } from '../../src/lease/renewal-batcher.js';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { encodeKvCommand } from '../../src/apply/kv-command.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';
import { ImmediateDeferral } from '../../src/ports/system-deferral.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });

/** A lessor on one member whose leadership the test sets; proposals are recorded and applied at once. */
async function member() {
  const clock = new VirtualClock();
  const backend = new MemoryBackend();
  const leases = new LeaseStore(backend);
  const store = await MvccStore.open(backend, { header, leases });
  const applier = new LeaseApplier(store, leases, { header });
  const sm = new KvStateMachine(store, new AlarmRegistry(backend), undefined, applier);
  let index = 0;
  const proposed: LeaseCommand[] = [];
  const apply = (command: LeaseCommand) => sm.apply(++index, encodeKvCommand(command));
  let leader = '';
  const listeners: ((leader: string) => void)[] = [];
  const raft = {
    id: 'me',
    currentLeader: () => leader,
    onLeaderChange: (l: (leader: string) => void) => {
      listeners.push(l);
    },
  };
  const lessor = new Lessor(
    raft,
    leases,
    applier,
    {
      proposeLease: async (command) => {
        proposed.push(command);
        return apply(command);
      },
    },
    clock,
    new MemoryLogger({ level: 'error', now: () => clock.now() }),
    { electionTimeoutMs: 1000 },
  );
  lessor.start();
  const elect = (who: string): void => {
    leader = who;
    for (const l of listeners) l(who);
  };
  return { clock, leases, sm, lessor, proposed, apply, elect };
}

describe('RenewalBatcher', () => {
  it('coalesces keep-alives into one renewal entry, at most one in flight, and answers each with its TTL', async () => {
    const proposals: (readonly bigint[])[] = [];
    let release: (() => void) | undefined;
    const batcher = new RenewalBatcher(async (ids) => {
      proposals.push(ids);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return new Map(ids.map((id) => [id, id === 4n ? 0 : 30]));
    }, new ImmediateDeferral());
    const first = [batcher.renew(1n), batcher.renew(2n), batcher.renew(1n)];
    await new Promise((r) => setImmediate(r));
    expect(proposals).to.deep.equal([[1n, 2n]]);
    // While the first entry is in flight, the next keep-alives wait for one entry of their own.
    const second = [batcher.renew(3n), batcher.renew(4n)];
    await new Promise((r) => setImmediate(r));
    expect(proposals).to.have.length(1);
    release!();
    expect(await Promise.all(first)).to.deep.equal([30, 30, 30]);
    await new Promise((r) => setImmediate(r));
    expect(proposals).to.deep.equal([
      [1n, 2n],
      [3n, 4n],
    ]);
    release!();
    expect(await Promise.all(second)).to.deep.equal([30, 0]);
  });

  it('fails every keep-alive of an entry that failed (no leader), and goes on with the next', async () => {
    let fail = true;
    const batcher = new RenewalBatcher(async (ids) => {
      if (fail) throw new Error('etcdserver: no leader');
      return new Map(ids.map((id) => [id, 5]));
    }, new ImmediateDeferral());
    const outcomes = await Promise.allSettled([batcher.renew(1n), batcher.renew(2n)]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : o.value))).to.deep.equal([
      'etcdserver: no leader',
      'etcdserver: no leader',
    ]);
    fail = false;
    expect(await batcher.renew(1n)).to.equal(5);
  });
});

describe('Lessor (one member, virtual clock)', () => {
  it('the leader revokes a lease through a proposal once its TTL has passed without renewal, not before', async () => {
    const m = await member();
    m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 2 });
    await m.clock.runFor(1_500);
    expect(m.lessor.renew(1n)).to.equal(2);
    await m.clock.runFor(1_900);
    expect(m.proposed.filter((c) => c.op === 'leaseRevoke')).to.deep.equal([]);
    await m.clock.runFor(400);
    expect(m.proposed.filter((c) => c.op === 'leaseRevoke')).to.deep.equal([{ op: 'leaseRevoke', id: 1n }]);
    expect(m.leases.exists(1n)).to.equal(false);
    expect(m.lessor.renew(1n)).to.equal(undefined);
  });

  it("a mass expiry is revoked at most 250 leases per check (1,000 a second, etcd's rate), not in one burst", async () => {
    const m = await member();
    m.elect('me');
    for (let i = 1; i <= 600; i++) await m.apply({ op: 'leaseGrant', id: BigInt(i), ttl: 1 });
    const revokes = (): number => m.proposed.filter((c) => c.op === 'leaseRevoke').length;
    await m.clock.runFor(1_000);
    expect(revokes()).to.equal(250);
    await m.clock.runFor(250);
    expect(revokes()).to.equal(500);
    await m.clock.runFor(250);
    expect(revokes()).to.equal(600);
    expect(m.leases.all()).to.deep.equal([]);
  });

  it('a follower proposes no revoke, however long a lease goes unrenewed', async () => {
    const m = await member();
    m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 1 });
    await m.clock.runFor(10_000);
    expect(m.proposed).to.deep.equal([]);
    expect(m.leases.exists(1n)).to.equal(true);
    expect(m.lessor.remainingSeconds(1n)).to.equal(0);
  });

  it('renews on the leader are checkpointed for followers once a second (only when there were any)', async () => {
    const m = await member();
    m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 5 });
    await m.apply({ op: 'leaseGrant', id: 2n, ttl: 5 });
    m.lessor.renew(1n);
    await m.clock.runFor(1_000);
    expect(m.proposed).to.deep.equal([{ op: 'leaseCheckpoint', ids: [1n] }]);
    await m.clock.runFor(1_000);
    expect(m.proposed).to.have.length(1);
  });

  it('splits a checkpoint of many renewed leases into entries of at most 10,000', async () => {
    const m = await member();
    m.elect('me');
    for (let i = 1; i <= 25_000; i++) await m.apply({ op: 'leaseGrant', id: BigInt(i), ttl: 60 });
    for (let i = 1; i <= 25_000; i++) m.lessor.renew(BigInt(i));
    await m.clock.runFor(1_000);
    const sizes = m.proposed.map((c) => (c.op === 'leaseCheckpoint' ? c.ids.length : -1));
    expect(sizes).to.deep.equal([10_000, 10_000, 5_000]);
  });

  it('a renew on the leader after the TTL ran out is refused (TTL 0), even before the revoke is proposed', async () => {
    const m = await member();
    m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 1 });
    m.clock.advance(1_001);
    expect(m.lessor.renew(1n)).to.equal(undefined);
  });

  it('a new leader gives each lease its full TTL plus the election timeout', async () => {
    const m = await member();
    m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 3 });
    await m.clock.runFor(2_500);
    m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(4);
    await m.clock.runFor(3_900);
    expect(m.leases.exists(1n)).to.equal(true);
    await m.clock.runFor(400);
    expect(m.leases.exists(1n)).to.equal(false);
  });

  it('after a snapshot replaced the leases, clocks follow: leases it brought start at their full TTL, gone ones stop', async () => {
    const m = await member();
    m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 3 });
    const source = await member();
    await source.apply({ op: 'leaseGrant', id: 9n, ttl: 4 });
    const snapshot = source.sm.snapshot();
    await m.sm.restore({ index: snapshot.index, term: 1, confState: { voters: [], learners: [] } }, snapshot.data);
    expect(m.lessor.remainingSeconds(9n)).to.equal(4);
    expect(m.lessor.remainingSeconds(1n)).to.equal(undefined);
    await m.clock.runFor(4_300);
    expect(m.proposed).to.deep.include({ op: 'leaseRevoke', id: 9n });
    expect(m.proposed).to.not.deep.include({ op: 'leaseRevoke', id: 1n });
  });
});
