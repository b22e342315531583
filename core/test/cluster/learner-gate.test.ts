import { expect } from 'chai';
import type { Consensus } from '../../src/raft/consensus.js';
import type { ConfState } from '../../src/protocol/raft-types.js';
import { EtcdError } from '../../src/api/errors.js';
import { learnerGated } from '../../src/services/learner-gate.js';
import type { CairnServices } from '../../src/api/services.js';

const SELF = 'aaaaaaaaaaaaaaaa';
const answered = async (what: string): Promise<string> => what;

/** Services that answer with the name of the call, so the test sees which reached them. */
function services(): CairnServices {
  const call = (name: string) => () => answered(name);
  return {
    identity: { clusterId: '1', memberId: SELF, name: 'a' },
    kv: { range: call('range'), put: call('put'), deleteRange: call('deleteRange'), txn: call('txn'), compact: call('compact') },
    cluster: {
      memberList: call('memberList'),
      memberAdd: call('memberAdd'),
      memberRemove: call('memberRemove'),
      memberUpdate: call('memberUpdate'),
      memberPromote: call('memberPromote'),
    },
    maintenance: {
      status: call('status'),
      hashKv: call('hashKv'),
      defragment: call('defragment'),
      alarm: call('alarm'),
      moveLeader: call('moveLeader'),
      snapshot: () =>
        (async function* () {
          yield new Uint8Array(1);
        })(),
    },
    lease: { grant: call('grant'), revoke: call('revoke'), keepAlive: call('keepAlive'), timeToLive: call('timeToLive'), leases: call('leases') },
    watch: { openStream: () => 'stream' },
  } as unknown as CairnServices;
}

async function refusal(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    expect(err).to.be.instanceOf(EtcdError);
    return `${(err as EtcdError).code} ${(err as Error).message}`;
  }
}

describe('learnerGated', () => {
  let conf: ConfState;
  const node: Pick<Consensus, 'id' | 'membership'> = { id: SELF, membership: () => conf };
  const REFUSED = '14 etcdserver: rpc not supported for learner';

  it('a learner serves endpoint status and serializable ranges only, as etcd 3.4 does', async () => {
    conf = { voters: ['bbbbbbbbbbbbbbbb'], learners: [SELF] };
    const gated = learnerGated(services(), node);
    expect(await gated.maintenance.status()).to.equal('status');
    expect(await gated.kv.range({ key: new Uint8Array([1]), serializable: true })).to.equal('range');
    expect(await refusal(() => gated.kv.range({ key: new Uint8Array([1]) }))).to.equal(REFUSED);
    expect(await refusal(() => gated.kv.put({ key: new Uint8Array([1]), value: new Uint8Array(0) }))).to.equal(REFUSED);
    expect(await refusal(() => gated.cluster.memberList(true))).to.equal(REFUSED);
    expect(await refusal(() => gated.maintenance.hashKv(0))).to.equal(REFUSED);
    expect(() => gated.maintenance.snapshot()).to.throw('etcdserver: rpc not supported for learner');
    expect(await refusal(() => gated.lease!.grant(10, 0n))).to.equal(REFUSED);
    expect(await refusal(() => gated.lease!.keepAlive(1n))).to.equal(REFUSED);
    expect(() => gated.watch!.openStream()).to.throw('etcdserver: rpc not supported for learner');
  });

  it('once promoted, the same member serves everything', async () => {
    conf = { voters: ['bbbbbbbbbbbbbbbb', SELF], learners: [] };
    const gated = learnerGated(services(), node);
    expect(await gated.kv.range({ key: new Uint8Array([1]) })).to.equal('range');
    expect(await gated.kv.put({ key: new Uint8Array([1]), value: new Uint8Array(0) })).to.equal('put');
    expect(await gated.cluster.memberList(true)).to.equal('memberList');
    expect(await gated.lease!.keepAlive(1n)).to.equal('keepAlive');
    expect(gated.watch!.openStream()).to.equal('stream');
  });
});
