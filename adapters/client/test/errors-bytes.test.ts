import { strict as assert } from 'node:assert';
import {
  AbortedError,
  CompactedError,
  DeadlineExceededError,
  EtcdError,
  etcdErrorFrom,
  etcdErrorFromCancelReason,
  isRetryable,
  LeaseNotFoundError,
  NoLeaderError,
  NotLeaderError,
  parseEndpoint,
  PermissionDeniedError,
  prefixEnd,
  UnavailableError,
} from '../src/index.js';

describe('typed errors', () => {
  it('picks the class by etcd message, then by code', () => {
    const compacted = etcdErrorFrom(11, 'etcdserver: mvcc: required revision has been compacted', 'e1');
    assert.ok(compacted instanceof CompactedError);
    assert.equal(compacted.endpoint, 'e1');
    assert.equal(compacted.code, 11);
    assert.ok(etcdErrorFrom(5, 'etcdserver: requested lease not found', '') instanceof LeaseNotFoundError);
    const leaderChanged = etcdErrorFrom(14, 'etcdserver: leader changed', '');
    assert.ok(leaderChanged instanceof NoLeaderError && leaderChanged instanceof UnavailableError);
    assert.ok(etcdErrorFrom(2, 'election: not leader', '') instanceof NotLeaderError);
    assert.ok(etcdErrorFrom(14, 'etcdserver: request timed out', '') instanceof UnavailableError);
    assert.ok(etcdErrorFrom(4, 'Deadline exceeded', '') instanceof DeadlineExceededError);
    assert.ok(etcdErrorFrom(1, 'Cancelled on client', '') instanceof AbortedError);
    const plain = etcdErrorFrom(3, 'etcdserver: key is not provided', '');
    assert.equal(plain.constructor, EtcdError);
    assert.equal(plain.name, 'EtcdError');
  });

  it('retries only what says the endpoint failed', () => {
    assert.equal(isRetryable(etcdErrorFrom(14, 'etcdserver: no leader', '')), true);
    assert.equal(isRetryable(etcdErrorFrom(14, 'connect ECONNREFUSED', '')), true);
    assert.equal(isRetryable(etcdErrorFrom(4, 'Deadline exceeded', '')), false);
    assert.equal(isRetryable(etcdErrorFrom(7, 'etcdserver: permission denied', '')), false);
    assert.equal(isRetryable(new Error('x')), false);
  });

  it("reads a watch's cancel reason in etcd's Go status form", () => {
    const denied = etcdErrorFromCancelReason('rpc error: code = PermissionDenied desc = etcdserver: permission denied', 'e');
    assert.ok(denied instanceof PermissionDeniedError);
    assert.equal(denied.code, 7);
    assert.equal(denied.details, 'etcdserver: permission denied');
    const bare = etcdErrorFromCancelReason('etcdserver: mvcc: required revision has been compacted', 'e');
    assert.ok(bare instanceof CompactedError);
  });
});

describe('bytes and endpoints', () => {
  it("computes etcd's prefix range end", () => {
    assert.deepEqual([...prefixEnd('a/')], [...Buffer.from('a0')]);
    assert.deepEqual([...prefixEnd(Buffer.from([1, 0xff]))], [2]);
    assert.deepEqual([...prefixEnd(Buffer.from([0xff, 0xff]))], [0]);
    assert.deepEqual([...prefixEnd('')], [0]);
  });

  it('dials endpoints by host:port, never with a scheme in the authority', () => {
    assert.deepEqual(parseEndpoint('http://127.0.0.1:2379', false), { target: '127.0.0.1:2379', secure: false });
    assert.deepEqual(parseEndpoint('https://db.example:2379/', false), { target: 'db.example:2379', secure: true });
    assert.deepEqual(parseEndpoint('127.0.0.1:2379', true), { target: '127.0.0.1:2379', secure: true });
  });
});
