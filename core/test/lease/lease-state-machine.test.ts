import { expect } from 'chai';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { LeaseApplier, type GrantOutcome } from '../../src/lease/lease-applier.js';
import type { LeaseCommand } from '../../src/lease/lease-command.js';
import { LeaseStore } from '../../src/lease/lease-store.js';
import { encodeKvCommand, type KvCommand } from '../../src/apply/kv-command.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MvccStore, type ApplyOutcome, type MvccEvent } from '../../src/mvcc/mvcc-store.js';
import { AlarmAction, AlarmType } from '../../src/api/services.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';

const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** One member's state machine with leases, on `backend`, applying commands at increasing indexes. */
async function member(backend = new MemoryBackend()) {
  const leaseStore = new LeaseStore(backend);
  const store = await MvccStore.open(backend, { header, leases: leaseStore });
  const leases = new LeaseApplier(store, leaseStore, { header });
  await leases.load();
  const alarms = new AlarmRegistry(backend);
  await alarms.load();
  const sm = new KvStateMachine(store, alarms, undefined, leases);
  let index = store.appliedIndex;
  const apply = async <T>(command: KvCommand | LeaseCommand): Promise<ApplyOutcome<T>> =>
    (await sm.apply(++index, encodeKvCommand(command))) as ApplyOutcome<T>;
  const put = (key: string, lease?: bigint) =>
    apply({ op: 'put', request: { key: bytes(key), value: bytes(`v-${key}`), ...(lease === undefined ? {} : { lease }) } });
  const keysOf = (id: bigint): string[] => leaseStore.keys(id).map(text);
  return { backend, store, leaseStore, leases, sm, apply, put, keysOf };
}

const errorOf = (outcome: ApplyOutcome<unknown>): string => ('error' in outcome ? outcome.error.message : 'no error');

describe('leases in the replicated state machine', () => {
  it('grants with the given ID and TTL, and refuses an ID in use with etcd\'s "lease already exists"', async () => {
    const m = await member();
    const granted = await m.apply<GrantOutcome>({ op: 'leaseGrant', id: 7n, ttl: 10 });
    expect('ok' in granted && granted.ok.id).to.equal(7n);
    expect('ok' in granted && granted.ok.ttl).to.equal(10);
    const again = await m.apply({ op: 'leaseGrant', id: 7n, ttl: 20 });
    expect(errorOf(again)).to.equal('etcdserver: lease already exists');
    expect(m.leaseStore.get(7n)).to.deep.equal({ id: 7n, ttl: 10 });
    expect(m.store.appliedIndex).to.equal(2);
    // A grant is no write to the key space: the revision stays.
    expect(m.store.currentRevision).to.equal(1);
  });

  it('attaches keys put with the lease, detaches them when overwritten without it or deleted, and refuses unknown leases', async () => {
    const m = await member();
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 10 });
    await m.apply({ op: 'leaseGrant', id: 2n, ttl: 10 });
    await m.put('a', 1n);
    await m.put('b', 1n);
    await m.put('c', 1n);
    expect(m.keysOf(1n)).to.deep.equal(['a', 'b', 'c']);
    await m.put('a');
    await m.apply({ op: 'deleteRange', request: { key: bytes('b') } });
    await m.put('c', 2n);
    expect(m.keysOf(1n)).to.deep.equal([]);
    expect(m.keysOf(2n)).to.deep.equal(['c']);
    // ignoreLease keeps the key's lease; a txn's put attaches too.
    await m.apply({ op: 'put', request: { key: bytes('c'), value: bytes('x'), ignoreLease: true } });
    await m.apply({ op: 'txn', request: { compare: [], success: [{ requestPut: { key: bytes('d'), value: bytes('d'), lease: 2n } }], failure: [] } });
    expect(m.keysOf(2n)).to.deep.equal(['c', 'd']);
    const refused = await m.put('e', 99n);
    expect(errorOf(refused)).to.equal('etcdserver: requested lease not found');
  });

  it('revoke deletes every attached key in ONE revision, atomically with the lease record', async () => {
    const m = await member();
    const events: { revision: number; events: readonly MvccEvent[] }[] = [];
    m.store.onCommit((e, revision) => events.push({ revision, events: e }));
    await m.apply({ op: 'leaseGrant', id: 5n, ttl: 10 });
    for (const k of ['k1', 'k2', 'k3']) await m.put(k, 5n);
    await m.put('other');
    const before = m.store.currentRevision;
    const writes: number[] = [];
    const write = m.backend.write.bind(m.backend);
    m.backend.write = async (ops) => {
      writes.push(ops.length);
      return write(ops);
    };
    const revoked = await m.apply<{ header: { revision: number } }>({ op: 'leaseRevoke', id: 5n });
    expect('ok' in revoked && revoked.ok.header.revision).to.equal(before + 1);
    expect(m.store.currentRevision).to.equal(before + 1);
    // One backend batch: three tombstones, the lease record, the revision and the applied index.
    expect(writes).to.deep.equal([6]);
    const last = events.at(-1)!;
    expect(last.revision).to.equal(before + 1);
    expect(last.events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision])).to.deep.equal([
      ['delete', 'k1', before + 1],
      ['delete', 'k2', before + 1],
      ['delete', 'k3', before + 1],
    ]);
    const left = await m.store.range({ key: bytes('\0'), rangeEnd: bytes('\0') });
    expect(left.kvs.map((kv) => text(kv.key))).to.deep.equal(['other']);
    expect(m.leaseStore.exists(5n)).to.equal(false);
    expect(errorOf(await m.apply({ op: 'leaseRevoke', id: 5n }))).to.equal('etcdserver: requested lease not found');
    // A lease without keys is revoked without a new revision.
    await m.apply({ op: 'leaseGrant', id: 6n, ttl: 10 });
    await m.apply({ op: 'leaseRevoke', id: 6n });
    expect(m.store.currentRevision).to.equal(before + 1);
  });

  it('answers renewals per lease: the granted TTL, 0 for a lease that is gone', async () => {
    const m = await member();
    await m.apply({ op: 'leaseGrant', id: 3n, ttl: 15 });
    const renewed = await m.apply<ReadonlyMap<bigint, number>>({ op: 'leaseRenew', ids: [3n, 4n] });
    expect('ok' in renewed && [...renewed.ok]).to.deep.equal([
      [3n, 15],
      [4n, 0],
    ]);
  });

  it('keeps leases and attachments across a restart (records in the Backend)', async () => {
    const m = await member();
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 30 });
    await m.apply({ op: 'leaseGrant', id: -5n, ttl: 40 });
    await m.put('x', 1n);
    await m.put('y', -5n);
    await m.put('z', 1n);
    await m.put('z');
    const again = await member(m.backend);
    expect(again.leaseStore.all().sort((a, b) => Number(a.id - b.id))).to.deep.equal([
      { id: -5n, ttl: 40 },
      { id: 1n, ttl: 30 },
    ]);
    expect(again.keysOf(1n)).to.deep.equal(['x']);
    expect(again.keysOf(-5n)).to.deep.equal(['y']);
    await again.apply({ op: 'leaseRevoke', id: 1n });
    expect((await again.store.range({ key: bytes('x') })).kvs).to.have.length(0);
  });

  it('travels with a Raft snapshot: a restored member has the same leases and keys, and forgets its own', async () => {
    const source = await member();
    await source.apply({ op: 'leaseGrant', id: 11n, ttl: 30 });
    await source.put('s1', 11n);
    await source.put('s2', 11n);
    const target = await member();
    await target.apply({ op: 'leaseGrant', id: 99n, ttl: 5 });
    const snapshot = source.sm.snapshot();
    await target.sm.restore({ index: snapshot.index, term: 1, confState: { voters: [], learners: [] } }, snapshot.data);
    expect(target.leaseStore.all()).to.deep.equal([{ id: 11n, ttl: 30 }]);
    expect(target.keysOf(11n)).to.deep.equal(['s1', 's2']);
    expect(target.keysOf(99n)).to.deep.equal([]);
  });

  it("refuses grants while NOSPACE is raised, as etcd's capped applier does, and still revokes", async () => {
    const m = await member();
    await m.apply({ op: 'leaseGrant', id: 1n, ttl: 30 });
    await m.apply({ op: 'alarm', action: AlarmAction.Activate, memberId: 'aa', alarm: AlarmType.NoSpace });
    expect(errorOf(await m.apply({ op: 'leaseGrant', id: 2n, ttl: 30 }))).to.equal('etcdserver: mvcc: database space exceeded');
    expect('ok' in (await m.apply({ op: 'leaseRevoke', id: 1n }))).to.equal(true);
  });
});
