import { expect } from 'chai';
import { LeaseApplier } from '../../src/lease/lease-applier.js';
import type { LeaseCommand } from '../../src/lease/lease-command.js';
import { LeaseStore } from '../../src/lease/lease-store.js';
import { Lessor, type LessorOptions } from '../../src/lease/lessor.js';
import { RenewalBatcher } from '../../src/lease/renewal-batcher.js';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { encodeKvCommand } from '../../src/apply/kv-command.js';
import { encodeJsonKvCommand } from '../../src/apply/kv-command-json.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';
import { VirtualClock } from '../../src/testkit/memory/virtual-clock.js';
import { ImmediateDeferral } from '../../src/ports/system-deferral.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });

/** The checkpoint entries among `proposed`, each as its list of [lease, remaining ms]. */
const checkpointsIn = (proposed: readonly LeaseCommand[]): [bigint, number][][] =>
  proposed.flatMap((c) => (c.op === 'leaseCheckpoint' ? [c.checkpoints.map((cp): [bigint, number] => [cp.id, cp.remainingMs])] : []));

/** A lessor on one member whose leadership the test sets; proposals are recorded and applied at once. */
async function member(options: Partial<LessorOptions> = {}) {
  const clock = new VirtualClock();
  const backend = new MemoryBackend();
  const leases = new LeaseStore(backend);
  const store = await MvccStore.open(backend, { header, leases });
  const applier = new LeaseApplier(store, leases, { header });
  const sm = new KvStateMachine(store, new AlarmRegistry(backend), undefined, applier);
  let index = 0;
  const proposed: LeaseCommand[] = [];
  // `encode`: the entry's encoding (entries of earlier versions are JSON).
  const apply = (command: LeaseCommand, encode: (c: LeaseCommand) => Uint8Array = encodeKvCommand) => sm.apply(++index, encode(command));
  let leader = '';
  const listeners: ((leader: string) => void)[] = [];
  const raft = {
    id: 'me',
    currentLeader: () => leader,
    onLeaderChange: (l: (leader: string) => void) => {
      listeners.push(l);
    },
    readIndex: async () => index,
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
    { electionTimeoutMs: 1000, ...options },
  );
  lessor.start();
  /** A new leader; resolves once a lessor that leads took over (its read barrier passed). */
  const elect = async (who: string): Promise<void> => {
    leader = who;
    for (const l of listeners) l(who);
    await new Promise((r) => setImmediate(r));
  };
  const checkpoints = () => checkpointsIn(proposed);
  return { clock, backend, leases, sm, lessor, proposed, apply, elect, checkpoints };
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
    await m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 2 });
    await m.clock.runFor(1_500);
    expect(await m.lessor.renew(1n)).to.equal(2);
    await m.clock.runFor(1_900);
    expect(m.proposed.filter((c) => c.op === 'leaseRevoke')).to.deep.equal([]);
    await m.clock.runFor(400);
    expect(m.proposed.filter((c) => c.op === 'leaseRevoke')).to.deep.equal([{ op: 'leaseRevoke', id: 1n }]);
    expect(m.leases.exists(1n)).to.equal(false);
    expect(await m.lessor.renew(1n)).to.equal(undefined);
  });

  it("a mass expiry is revoked at most 250 leases per check (1,000 a second, etcd's rate), not in one burst", async () => {
    const m = await member();
    await m.elect('me');
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
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 1 });
    await m.clock.runFor(10_000);
    expect(m.proposed).to.deep.equal([]);
    expect(m.leases.exists(1n)).to.equal(true);
    expect(m.lessor.remainingSeconds(1n)).to.equal(0);
  });

  it('a renew on the leader after the TTL ran out is refused (TTL 0), even before the revoke is proposed', async () => {
    const m = await member();
    await m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 1 });
    m.clock.advance(1_001);
    expect(await m.lessor.renew(1n)).to.equal(undefined);
  });

  it('a new leader gives a lease without a checkpoint its whole TTL plus the election timeout (it may have been renewed just before)', async () => {
    const m = await member();
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 3 });
    await m.clock.runFor(2_500);
    await m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(4);
    await m.clock.runFor(3_900);
    expect(m.leases.exists(1n)).to.equal(true);
    await m.clock.runFor(400);
    expect(m.leases.exists(1n)).to.equal(false);
  });

  it("with checkpoints off, etcd's rule: a new leader gives each lease its whole TTL plus the election timeout, and checkpoints nothing", async () => {
    const m = await member({ checkpointEnabled: false, checkpointIntervalMs: 500 });
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 3 });
    await m.clock.runFor(2_500);
    await m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(4);
    await m.clock.runFor(3_900);
    expect(m.leases.exists(1n)).to.equal(true);
    await m.clock.runFor(400);
    expect(m.leases.exists(1n)).to.equal(false);
    expect(m.checkpoints()).to.deep.equal([]);
  });

  it('checkpoints what a lease has left one interval after its grant, and each interval after, in entries of at most 1,000', async () => {
    const m = await member({ checkpointIntervalMs: 1_000 });
    await m.elect('me');
    for (let i = 1; i <= 2_500; i++) await m.apply({ op: 'leaseGrant', id: BigInt(i), ttl: 60 });
    await m.clock.runFor(1_250);
    const first = m.checkpoints();
    expect(first.map((entry) => entry.length)).to.deep.equal([1_000, 1_000, 500]);
    for (const [, remaining] of first.flat()) expect(remaining).to.be.within(58_750, 59_000);
    // Every member keeps it with the lease.
    expect(m.leases.get(7n)?.remainingMs).to.be.within(58_750, 59_000);
    await m.clock.runFor(1_000);
    const second = m.checkpoints().slice(3).flat();
    expect(second).to.have.length(2_500);
    for (const [, remaining] of second) expect(remaining).to.be.within(57_750, 58_000);
  });

  it('checkpoints at most maxCheckpointsPerSecond: the rest wait for the next checks', async () => {
    const m = await member({ checkpointIntervalMs: 1_000, maxCheckpointsPerSecond: 4_000 });
    await m.elect('me');
    for (let i = 1; i <= 2_500; i++) await m.apply({ op: 'leaseGrant', id: BigInt(i), ttl: 60 });
    await m.clock.runFor(1_000);
    expect(m.checkpoints().map((entry) => entry.length)).to.deep.equal([1_000]);
    await m.clock.runFor(500);
    expect(m.checkpoints().map((entry) => entry.length)).to.deep.equal([1_000, 1_000, 500]);
  });

  it('a lease kept alive more often than the interval is never checkpointed', async () => {
    const m = await member({ checkpointIntervalMs: 1_000 });
    await m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 10 });
    for (let i = 0; i < 20; i++) {
      await m.clock.runFor(800);
      expect(await m.lessor.renew(1n)).to.equal(10);
    }
    expect(m.proposed.map((c) => c.op)).to.deep.equal([]);
  });

  it('a renewal of a checkpointed lease clears the checkpoint through the log before it answers; without one it proposes nothing', async () => {
    const m = await member({ checkpointIntervalMs: 1_000 });
    await m.elect('me');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 10 });
    await m.apply({ op: 'leaseGrant', id: 2n, ttl: 10 });
    await m.clock.runFor(1_250);
    expect(m.leases.get(1n)?.remainingMs).to.be.within(8_750, 9_000);
    const before = m.proposed.length;
    expect(await Promise.all([m.lessor.renew(1n), m.lessor.renew(2n)])).to.deep.equal([10, 10]);
    // One entry clears both (batched), and the records have their whole TTL again.
    expect(m.proposed.slice(before)).to.deep.equal([
      {
        op: 'leaseCheckpoint',
        checkpoints: [
          { id: 1n, remainingMs: 0 },
          { id: 2n, remainingMs: 0 },
        ],
      },
    ]);
    expect(m.leases.get(1n)?.remainingMs).to.equal(undefined);
    expect(m.lessor.remainingSeconds(1n)).to.equal(10);
    // Renewed again before its next checkpoint: nothing to clear, no entry.
    expect(await m.lessor.renew(1n)).to.equal(10);
    expect(m.proposed).to.have.length(before + 1);
  });

  it('a new leader takes over from the checkpoint: what the lease had left when the checkpoint was applied here', async () => {
    const m = await member();
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 60 });
    await m.clock.runFor(40_000);
    await m.apply({ op: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingMs: 20_000 }] });
    const checkpointedAt = m.clock.now();
    await m.clock.runFor(3_000);
    await m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(17);
    await m.clock.runUntil(checkpointedAt + 19_900);
    expect(m.leases.exists(1n)).to.equal(true);
    await m.clock.runUntil(checkpointedAt + 20_300);
    expect(m.leases.exists(1n)).to.equal(false);
  });

  it('a new leader never gives a checkpointed lease less than an election timeout', async () => {
    const m = await member();
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 60 });
    await m.apply({ op: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingMs: 500 }] });
    await m.clock.runFor(2_000);
    await m.elect('me');
    await m.clock.runFor(900);
    expect(m.leases.exists(1n)).to.equal(true);
    await m.clock.runFor(400);
    expect(m.leases.exists(1n)).to.equal(false);
  });

  it('a renewal through the log (a follower whose leader did not answer) clears the checkpoint on every member', async () => {
    const m = await member();
    await m.elect('someone-else');
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 60 });
    await m.apply({ op: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingMs: 5_000 }] });
    await m.apply({ op: 'leaseRenew', ids: [1n] });
    expect(m.leases.get(1n)?.remainingMs).to.equal(undefined);
    await m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(61);
  });

  it('the remaining TTL lives in the Backend with the lease: reopened, or restored from a snapshot, a member starts from it', async () => {
    const source = await member();
    await source.apply({ op: 'leaseGrant', id: 1n, ttl: 60 });
    await source.apply({ op: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingMs: 20_000 }] });
    const reopened = new LeaseStore(source.backend);
    await reopened.load([]);
    expect(reopened.get(1n)).to.deep.equal({ id: 1n, ttl: 60, remainingMs: 20_000 });

    const m = await member();
    await m.elect('someone-else');
    const snapshot = source.sm.snapshot();
    await m.sm.restore({ index: snapshot.index, term: 1, confState: { voters: [], learners: [] } }, snapshot.data);
    expect(m.leases.get(1n)?.remainingMs).to.equal(20_000);
    await m.clock.runFor(5_000);
    await m.elect('me');
    expect(m.lessor.remainingSeconds(1n)).to.equal(15);
  });

  it('reads checkpoint entries of earlier versions (the IDs the leader renewed) as clears', async () => {
    const m = await member();
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 60 });
    await m.apply({ op: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingMs: 5_000 }] });
    const legacy = { op: 'leaseCheckpoint', ids: [1n] } as unknown as LeaseCommand;
    await m.apply(legacy, encodeJsonKvCommand);
    expect(m.leases.get(1n)?.remainingMs).to.equal(undefined);
  });

  it('after a snapshot replaced the leases, clocks follow: leases it brought start at their full TTL, gone ones stop', async () => {
    const m = await member();
    await m.elect('me');
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
