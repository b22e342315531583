import { expect } from 'chai';
import { AlarmRegistry } from '../../src/alarm/alarm-registry.js';
import { MemberRegistry } from '../../src/cluster/member-registry.js';
import { encodeKvCommand } from '../../src/apply/kv-command.js';
import { KvStateMachine } from '../../src/apply/kv-state-machine.js';
import { MvccStore } from '../../src/mvcc/mvcc-store.js';
import { memberChangeContext } from '../../src/raft/conf-change.js';
import { ConfChangeType } from '../../src/protocol/raft-types.js';
import type { ResponseHeader } from '../../src/api/kv-types.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';

const header = (revision: number): ResponseHeader => ({ clusterId: 1n, memberId: 1n, revision, raftTerm: 1 });
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

async function member(backend = new MemoryBackend()) {
  const store = await MvccStore.open(backend, { header });
  const registry = new MemberRegistry(backend);
  await registry.load();
  return { backend, store, registry, sm: new KvStateMachine(store, new AlarmRegistry(backend), registry) };
}

describe('MemberRegistry through the KV state machine', () => {
  it('records added members, updates, published attributes and removals with the applied index, and reloads them', async () => {
    const { backend, sm, registry, store } = await member();
    await sm.applyConfChange(1, { type: ConfChangeType.AddVoter, memberId: A, context: memberChangeContext(['http://127.0.0.1:1']) });
    await sm.applyConfChange(2, { type: ConfChangeType.AddLearner, memberId: B, context: memberChangeContext(['http://127.0.0.1:2']) });
    await sm.apply(3, encodeKvCommand({ op: 'publishMember', memberId: B, name: 'b', clientURLs: ['http://127.0.0.1:12'] }));
    await sm.applyConfChange(4, { type: ConfChangeType.UpdateMember, memberId: B, context: memberChangeContext(['http://127.0.0.1:22']) });
    await sm.applyConfChange(5, { type: ConfChangeType.PromoteLearner, memberId: B, context: new Uint8Array(0) });
    expect(store.appliedIndex).to.equal(5);
    expect(registry.get(B)).to.deep.equal({ id: B, name: 'b', peerURLs: ['http://127.0.0.1:22'], clientURLs: ['http://127.0.0.1:12'] });
    expect([...sm.memberPeerUrls()]).to.deep.equal([
      [A, ['http://127.0.0.1:1']],
      [B, ['http://127.0.0.1:22']],
    ]);

    await sm.applyConfChange(6, { type: ConfChangeType.RemoveMember, memberId: A, context: new Uint8Array(0) });
    // A publish that arrives after the member's removal does not bring it back.
    await sm.apply(7, encodeKvCommand({ op: 'publishMember', memberId: A, name: 'a', clientURLs: [] }));
    expect(registry.get(A)).to.equal(undefined);
    expect(registry.wasRemoved(A)).to.equal(true);

    const reopened = await member(backend);
    expect(reopened.registry.all()).to.deep.equal(registry.all());
    expect(reopened.registry.wasRemoved(A)).to.equal(true);
    expect(reopened.store.appliedIndex).to.equal(7);
  });

  it('travels with a snapshot: a restored member knows the members of the one it restored from', async () => {
    const source = await member();
    await source.sm.applyConfChange(1, { type: ConfChangeType.AddVoter, memberId: A, context: memberChangeContext(['http://127.0.0.1:1']) });
    await source.sm.apply(2, encodeKvCommand({ op: 'publishMember', memberId: A, name: 'a', clientURLs: ['http://127.0.0.1:11'] }));
    const snapshot = source.sm.snapshot();
    const target = await member();
    await target.sm.restore({ index: snapshot.index, term: 1, confState: { voters: [A], learners: [] } }, snapshot.data);
    expect(target.registry.all()).to.deep.equal(source.registry.all());
  });
});
