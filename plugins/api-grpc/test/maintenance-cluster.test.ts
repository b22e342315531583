import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { AlarmAction, AlarmType } from '@cairn/core';
import { startHarness, type Harness } from './harness.js';

const MEMBER = BigInt('0x8e9e05c52164694d').toString();

interface SnapshotMessage {
  header: Record<string, string>;
  remaining_bytes: string;
  blob: Buffer;
}

function readSnapshot(client: grpc.Client): Promise<SnapshotMessage[]> {
  const stream = (client as unknown as { Snapshot(request: object): grpc.ClientReadableStream<SnapshotMessage> }).Snapshot({});
  const messages: SnapshotMessage[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (m: SnapshotMessage) => messages.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(messages));
  });
}

describe('gRPC frontend: Maintenance and Cluster', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('Status carries the leader as a uint64 and every status field', async () => {
    const response = await harness.client('Maintenance').call('Status', {});
    expect(response).to.deep.include({
      version: '3.4.0',
      dbSize: '4096',
      dbSizeInUse: '2048',
      leader: MEMBER,
      raftIndex: '10',
      raftTerm: '2',
      raftAppliedIndex: '10',
      errors: [],
      isLearner: false,
    });
    expect(response['header']).to.deep.include({ member_id: MEMBER, revision: '1', raft_term: '2' });
  });

  it('HashKV, Hash, Defragment, Alarm and MoveLeader map onto the service', async () => {
    const maintenance = harness.client('Maintenance');
    const hashKv = await maintenance.call('HashKV', { revision: 0 });
    expect(hashKv).to.deep.include({ hash: 3735928559, compact_revision: '0', hash_revision: '1' });
    expect(harness.services.requests.at(-1)).to.deep.equal({ hashKv: 0 });
    expect(await maintenance.call('Hash', {})).to.deep.include({ hash: 3735928559 });
    expect((await maintenance.call('Defragment', {}))['header']).to.deep.include({ member_id: MEMBER });
    const alarms = await maintenance.call('Alarm', { action: AlarmAction.Get, memberID: 0, alarm: AlarmType.None });
    expect(alarms['alarms']).to.deep.equal([{ memberID: MEMBER, alarm: AlarmType.NoSpace }]);
    expect(harness.services.requests.at(-1)).to.deep.equal({ action: AlarmAction.Get, memberId: '0', alarm: AlarmType.None });
    await maintenance.call('MoveLeader', { targetID: MEMBER });
    expect(harness.services.requests.at(-1)).to.deep.equal({ targetId: '8e9e05c52164694d' });
    const err = await maintenance.failure('MoveLeader', { targetID: 5 });
    expect(err.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(err.details).to.equal('etcdserver: bad leader transferee');
  });

  it('streams a snapshot in 32 KiB blobs followed by the SHA-256 of the data', async () => {
    const data = randomBytes(100_001);
    harness.services.snapshotBytes = data;
    const messages = await readSnapshot(harness.client('Maintenance').client);
    const blobs = messages.slice(0, -1);
    expect(blobs.map((m) => m.blob.length)).to.deep.equal([32768, 32768, 32768, 1697]);
    expect(Buffer.concat(blobs.map((m) => m.blob)).equals(data)).to.equal(true);
    expect(messages.at(-1)!.blob.equals(createHash('sha256').update(data).digest())).to.equal(true);
    expect(messages.at(-1)!.remaining_bytes).to.equal('0');
    expect(blobs.at(-1)!.remaining_bytes).to.equal('0');
    expect(blobs.every((m, i) => i === blobs.length - 1 || Number(m.remaining_bytes) > 0)).to.equal(true);
    expect(messages.every((m) => m.header['member_id'] === MEMBER)).to.equal(true);
  });

  it('an empty snapshot is just the digest of nothing', async () => {
    const messages = await readSnapshot(harness.client('Maintenance').client);
    expect(messages).to.have.length(1);
    expect(messages[0]!.blob.equals(createHash('sha256').digest())).to.equal(true);
  });

  it('MemberList and member changes convert hex IDs to uint64 and back', async () => {
    const cluster = harness.client('Cluster');
    const list = await cluster.call('MemberList', { linearizable: true });
    expect(list['members']).to.deep.equal([
      { ID: MEMBER, name: 'default', peerURLs: ['http://localhost:2380'], clientURLs: ['http://localhost:2379'], isLearner: false },
    ]);
    expect(harness.services.requests.at(-1)).to.deep.equal({ linearizable: true });
    const added = await cluster.call('MemberAdd', { peerURLs: ['http://127.0.0.1:12380'], isLearner: true });
    expect(added['member']).to.deep.include({ ID: String(0xa1b2c3), isLearner: true });
    expect(added['members']).to.have.length(2);
    const removed = await cluster.call('MemberRemove', { ID: String(0xa1b2c3) });
    expect(harness.services.requests.at(-1)).to.deep.equal({ id: '0000000000a1b2c3' });
    expect(removed).to.not.have.property('member');
    await cluster.call('MemberUpdate', { ID: MEMBER, peerURLs: ['http://10.0.0.1:2380'] });
    expect(harness.services.requests.at(-1)).to.deep.equal({ id: '8e9e05c52164694d', peerURLs: ['http://10.0.0.1:2380'] });
    const notFound = await cluster.failure('MemberRemove', { ID: 42 });
    expect(notFound.code).to.equal(grpc.status.NOT_FOUND);
    expect(notFound.details).to.equal('etcdserver: member not found');
    const notLearner = await cluster.failure('MemberPromote', { ID: MEMBER });
    expect(notLearner.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(notLearner.details).to.equal('etcdserver: can only promote a learner member');
  });

  it('answers UNIMPLEMENTED for the services not served yet', async () => {
    for (const [service, method, request] of [
      ['Lease', 'LeaseGrant', { TTL: 10 }],
      ['Auth', 'AuthStatus', {}],
      ['Maintenance', 'Downgrade', {}],
    ] as const) {
      const err = await harness.client(service).failure(method, request);
      expect(err.code, method).to.equal(grpc.status.UNIMPLEMENTED);
    }
    const watch = (harness.client('Watch').client as unknown as { Watch(): grpc.ClientDuplexStream<object, object> }).Watch();
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      watch.on('error', resolve);
      watch.on('data', () => undefined);
      watch.write({ create_request: { key: Buffer.from('a') } });
    });
    expect(err.code).to.equal(grpc.status.UNIMPLEMENTED);
  });
});
