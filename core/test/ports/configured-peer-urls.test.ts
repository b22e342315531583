import { expect } from 'chai';
import { configuredPeerUrls, ownPeerUrls } from '../../src/ports/configured-peer-urls.js';

describe('the peer URLs a plugin is told', () => {
  const cluster = new Map([
    ['n1', ['nats://n1']],
    ['n2', ['http://10.0.0.2:2380', 'http://10.0.0.3:2380']],
  ]);

  it('a founding member: every member of the initial cluster, and its own entry there (its advertised URLs are not used)', () => {
    const founder = { name: 'n1', initialCluster: cluster, advertisePeerUrls: ['http://localhost:2380'] };
    expect(configuredPeerUrls(founder)).to.deep.equal([
      { member: 'n1', url: 'nats://n1', setting: 'initial-cluster: n1=nats://n1' },
      { member: 'n2', url: 'http://10.0.0.2:2380', setting: 'initial-cluster: n2=http://10.0.0.2:2380' },
      { member: 'n2', url: 'http://10.0.0.3:2380', setting: 'initial-cluster: n2=http://10.0.0.3:2380' },
    ]);
    expect(ownPeerUrls(founder)).to.deep.equal(['nats://n1']);
  });

  it('a member the initial cluster does not name (one joining): its advertised URLs too, and they are its own', () => {
    const joiner = { name: 'n4', initialCluster: new Map([['n1', ['nats://n1']]]), advertisePeerUrls: ['nats://n4'] };
    expect(configuredPeerUrls(joiner).map((u) => u.setting)).to.deep.equal(['initial-cluster: n1=nats://n1', 'initial-advertise-peer-urls: nats://n4']);
    expect(configuredPeerUrls(joiner)[1]!.member).to.equal('n4');
    expect(ownPeerUrls(joiner)).to.deep.equal(['nats://n4']);
  });
});
