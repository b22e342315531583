import { expect } from 'chai';
import { addedMemberIdOf, clusterIdOf, memberIdOf } from '../../src/cluster/member-id.js';
import { memberTopology } from '../../src/assembly/member.js';
import { configFrom } from '../../src/assembly/config-loader.js';
import { MessageType, type MemberId } from '../../src/protocol/raft-types.js';
import { assembledCluster } from '../node/assembled-cluster.js';

const TOKEN = 'readd-test';

describe('member IDs: founders from the flags, `member add` with the time mixed in (etcd)', function () {
  this.timeout(60_000);

  it("a founder's ID is etcd's: sha1 of the sorted peer URLs and the cluster token, no time", () => {
    // etcd's default member (name default, http://localhost:2380, token etcd-cluster).
    expect(memberIdOf(['http://localhost:2380'], 'etcd-cluster')).to.equal('8e9e05c52164694d');
    expect(clusterIdOf(['8e9e05c52164694d'])).to.equal('cdf818194e3a8c32');
    const config = configFrom({ name: 'default', 'data-dir': '/nowhere' });
    expect(memberTopology(config).identity).to.include({ memberId: '8e9e05c52164694d', clusterId: 'cdf818194e3a8c32' });
  });

  it("an added member's ID mixes in the Unix seconds, so the same URL added later gets another ID", () => {
    const urls = ['http://127.0.0.1:2380'];
    const at = Date.UTC(2026, 11, 7, 12, 0, 0);
    expect(addedMemberIdOf(urls, 'etcd-cluster', at)).to.equal(memberIdOf(urls, 'etcd-cluster', String(at / 1000)));
    expect(addedMemberIdOf(urls, 'etcd-cluster', at + 999)).to.equal(addedMemberIdOf(urls, 'etcd-cluster', at));
    expect(addedMemberIdOf(urls, 'etcd-cluster', at + 1000)).to.not.equal(addedMemberIdOf(urls, 'etcd-cluster', at));
    expect(addedMemberIdOf(urls, 'etcd-cluster', at)).to.not.equal(memberIdOf(urls, 'etcd-cluster'));
  });

  it('a member joining under an ID the cluster gave it is that ID in that cluster; the other founders keep theirs', () => {
    const config = configFrom({
      name: 'c',
      'data-dir': '/nowhere',
      'initial-cluster': 'a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3',
      'initial-advertise-peer-urls': 'http://127.0.0.1:3',
      'initial-cluster-state': 'existing',
    });
    const joined = { memberId: '0123456789abcdef', clusterId: 'fedcba9876543210' };
    const { self, founders, identity } = memberTopology(config, joined);
    expect(identity).to.deep.equal({ memberId: joined.memberId, clusterId: joined.clusterId, name: 'c' });
    expect(self.id).to.equal(joined.memberId);
    expect(founders.find((m) => m.name === 'a')!.id).to.equal(memberIdOf(['http://127.0.0.1:1'], 'etcd-cluster'));
    // Without a learned identity, the flags decide (a founder restarted with `existing`), the cluster ID unknown.
    expect(memberTopology(config).identity).to.deep.equal({ memberId: memberIdOf(['http://127.0.0.1:3'], 'etcd-cluster'), clusterId: '', name: 'c' });
  });

  it('remove, then add at the same peer URL: a new ID, never the removed one, even within the same second', async () => {
    const { cluster, services, leader, members } = await assembledCluster(TOKEN);
    const run = <T>(p: Promise<T>): Promise<T> => cluster.clock.settle(p, 10_000);
    const clusterService = services.get(leader.id)!.cluster;
    const first = (await run(clusterService.memberAdd(['http://127.0.0.1:30004'], true))).member!.id;
    expect(first).to.match(/^[0-9a-f]{16}$/);
    await run(clusterService.memberRemove(first));
    // Same URL, same virtual second: the removed ID is skipped.
    const second = (await run(clusterService.memberAdd(['http://127.0.0.1:30004'], true))).member!.id;
    expect(second).to.not.equal(first);
    const listed = (await run(clusterService.memberList(true))).members;
    expect(listed.map((m) => m.id))
      .to.include(second)
      .and.not.include(first);
    expect(listed.find((m) => m.id === second)!.peerURLs).to.deep.equal(['http://127.0.0.1:30004']);
    await cluster.clock.settle(Promise.all(members.map((m) => m.stop())));
  });

  it("a removed member's messages are refused (it may not know it was removed): no term it sends disturbs the cluster", async () => {
    const { cluster, services, leader, members, ids } = await assembledCluster(TOKEN);
    const run = <T>(p: Promise<T>): Promise<T> => cluster.clock.settle(p, 10_000);
    const gone: MemberId = ids.find((id) => id !== leader.id)!;
    const stays = ids.find((id) => id !== leader.id && id !== gone)!;
    await run(services.get(leader.id)!.cluster.memberRemove(gone));
    await cluster.runUntil(() => !cluster.member(stays).node.membership().voters.includes(gone));
    cluster.member(gone).node.halt();
    const term = cluster.member(stays).node.status().term;
    // What a removed member that missed its removal sends: an append at a later term.
    cluster.network.route({
      type: MessageType.App,
      from: gone,
      to: stays,
      term: term + 5,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      context: new Uint8Array(0),
    });
    await cluster.clock.runFor(200);
    expect(cluster.member(stays).node.status().term).to.equal(term);
    expect(cluster.logger.find('refused messages from a removed member').map((l) => l.fields['from'])).to.include(gone);
    await cluster.clock.settle(Promise.all(members.map((m) => m.stop())));
  });
});
