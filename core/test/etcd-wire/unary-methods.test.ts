import { expect } from 'chai';
import type { CairnServices } from '../../src/api/services.js';
import type { Member } from '../../src/assembly/member.js';
import { etcdUnaryMethods, unaryMethodsOf } from '../../src/etcd-wire/unary-methods.js';
import { TemporaryDirectories, rejection } from '../../src/testkit/temporary-directories.js';
import { startTestMember } from '../../src/testkit/test-member.js';

/** What a frontend's decoder hands over for a PutRequest (proto3 defaults filled in). */
const putRequest = (key: string, value: Buffer) => ({ key: Buffer.from(key), value, lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false });

describe("etcd's unary RPCs as one table over the services (etcdUnaryMethods)", function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-etcd-wire');
  let member: Member;
  before(async () => {
    member = await startTestMember({ dataDir: await dirs.make() });
  });
  after(async () => {
    await member.stop();
    await dirs.removeAll();
  });

  it('has every unary method of the services the member has, by gRPC name, and none of a service it lacks', () => {
    const methods = etcdUnaryMethods(member.services, { maxRequestBytes: 1024 });
    expect([...unaryMethodsOf(methods, 'etcdserverpb.KV').keys()]).to.deep.equal(['Range', 'Put', 'DeleteRange', 'Txn', 'Compact']);
    expect([...unaryMethodsOf(methods, 'etcdserverpb.Lease').keys()]).to.deep.equal(['LeaseGrant', 'LeaseRevoke', 'LeaseTimeToLive', 'LeaseLeases']);
    expect([...unaryMethodsOf(methods, 'v3lockpb.Lock').keys()]).to.deep.equal(['Lock', 'Unlock']);
    expect(methods.has('etcdserverpb.Maintenance/Status')).to.equal(true);
    // Streams are each frontend's.
    expect(methods.has('etcdserverpb.Watch/Watch')).to.equal(false);
    expect(methods.has('etcdserverpb.Maintenance/Snapshot')).to.equal(false);
    expect([...unaryMethodsOf(methods, 'etcdserverpb.Auth').keys()]).to.have.members([
      'AuthEnable',
      'AuthDisable',
      'AuthStatus',
      'Authenticate',
      'UserAdd',
      'UserGet',
      'UserList',
      'UserDelete',
      'UserChangePassword',
      'UserGrantRole',
      'UserRevokeRole',
      'RoleAdd',
      'RoleGet',
      'RoleList',
      'RoleDelete',
      'RoleGrantPermission',
      'RoleRevokePermission',
    ]);

    const withoutLeases: CairnServices = { ...member.services, lease: undefined, lock: undefined, auth: undefined };
    const fewer = etcdUnaryMethods(withoutLeases, { maxRequestBytes: 1024 });
    expect(unaryMethodsOf(fewer, 'etcdserverpb.Auth').size).to.equal(0);
    expect(unaryMethodsOf(fewer, 'etcdserverpb.Lease').size).to.equal(0);
    expect(unaryMethodsOf(fewer, 'v3lockpb.Lock').size).to.equal(0);
  });

  it('refuses a write whose encoded size the caller says is over --max-request-bytes, before it reaches the service', async () => {
    const methods = etcdUnaryMethods(member.services, { maxRequestBytes: 1024 });
    const put = methods.get('etcdserverpb.KV/Put')!;
    const refused = await rejection(put(putRequest('big', Buffer.alloc(2000)), { encodedSize: 2010 }));
    expect(refused.message).to.equal('etcdserver: request is too large');
    const range = await member.services.kv.range({ key: Buffer.from('big') });
    expect(range.count).to.equal(0);

    const answer = (await put(putRequest('small', Buffer.from('v')), { encodedSize: 12 })) as { header: { revision: number } };
    expect(answer.header.revision).to.be.greaterThan(1);
    // A read is not a write: its size is the transport's business.
    const read = methods.get('etcdserverpb.KV/Range')!;
    const found = (await read({ key: Buffer.from('small'), range_end: Buffer.alloc(0), limit: '0', revision: '0' }, { encodedSize: 5000 })) as {
      count: number;
    };
    expect(found.count).to.equal(1);
  });

  it('hands the call signal to a Lock, so a client that gives up stops waiting', async () => {
    const methods = etcdUnaryMethods(member.services, { maxRequestBytes: 1024 });
    const lock = methods.get('v3lockpb.Lock/Lock')!;
    const held = (await lock({ name: Buffer.from('m'), lease: '0' }, { encodedSize: 0 })) as { key: Buffer };
    const gaveUp = new AbortController();
    const waiting = lock({ name: Buffer.from('m'), lease: '0' }, { encodedSize: 0, signal: gaveUp.signal });
    gaveUp.abort();
    await rejection(waiting);
    await methods.get('v3lockpb.Lock/Unlock')!({ key: held.key }, { encodedSize: 0 });
  });
});
