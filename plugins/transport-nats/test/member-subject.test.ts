import assert from 'node:assert/strict';
import { clusterTokenSubject, isNatsPeerUrl, MemberSubjects, memberNameOf } from '../src/member-subject.js';

describe('member subjects from nats:// peer URLs', () => {
  it('names a member by the subject tokens of its peer URL', () => {
    assert.equal(memberNameOf('nats://n1'), 'n1');
    assert.equal(memberNameOf('nats://dc-1.n_2/'), 'dc-1.n_2');
    const subjects = new MemberSubjects('cairn', 'etcd-cluster');
    assert.equal(subjects.of('nats://n3'), 'cairn.etcd-cluster.n3');
    assert.equal(subjects.all(), 'cairn.etcd-cluster.>');
  });

  it('refuses what is not one, saying which form it wants', () => {
    for (const url of ['http://127.0.0.1:2380', '127.0.0.1:2380', 'tcp://n1:1']) {
      assert.equal(isNatsPeerUrl(url), false, url);
      assert.throws(() => memberNameOf(url), /is not a NATS peer URL \(want nats:\/\/<member-name>\)/);
    }
    for (const url of ['nats://n1:4222', 'nats://user@n1', 'nats://n*', 'nats://', 'nats://a..b']) {
      assert.equal(isNatsPeerUrl(url), false, url);
      assert.throws(() => memberNameOf(url), /a NATS peer URL is nats:\/\/<name>/);
    }
  });

  it('keeps cluster tokens apart even when they are not subject tokens', () => {
    assert.equal(clusterTokenSubject('etcd-cluster'), 'etcd-cluster');
    assert.notEqual(clusterTokenSubject('a.b'), clusterTokenSubject('a_b'));
    assert.match(clusterTokenSubject('a.b'), /^x[0-9a-f]+$/);
    assert.notEqual(clusterTokenSubject('x612e62'), clusterTokenSubject('a.b'));
    assert.throws(() => new MemberSubjects('bad prefix', 't'), /subjectPrefix/);
  });
});
