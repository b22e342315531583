import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { EtcdErrors, type LeaseService, type ResponseHeader } from '@cairn/core';
import { etcdPackageDefinition, GrpcFrontend } from '../src/index.js';
import { RawClient } from './harness.js';
import { MapServices } from './map-services.js';

const header: ResponseHeader = { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: 7, raftTerm: 3 };
/** An ID past 2^53: it must cross the wire exactly. */
const BIG = 0x7fff_ffff_ffff_fff1n;

/** A LeaseService that records what it was asked and answers from a fixed table. */
class RecordingLease implements LeaseService {
  readonly calls: string[] = [];
  readonly ttls = new Map<bigint, number>([
    [BIG, 30],
    [-5n, 10],
  ]);
  failKeepAlive: Error | undefined;

  async grant(ttl: number, id: bigint) {
    this.calls.push(`grant ${ttl} ${id}`);
    if (ttl > 9_000_000_000) throw EtcdErrors.leaseTtlTooLarge();
    return { header, id: id === 0n ? BIG : id, ttl: Math.max(ttl, 2) };
  }

  async revoke(id: bigint) {
    this.calls.push(`revoke ${id}`);
    if (!this.ttls.has(id)) throw EtcdErrors.leaseNotFound();
    return { header };
  }

  async keepAlive(id: bigint) {
    this.calls.push(`keepAlive ${id}`);
    if (this.failKeepAlive !== undefined) throw this.failKeepAlive;
    return { header, id, ttl: this.ttls.get(id) ?? 0 };
  }

  async timeToLive(id: bigint, keys: boolean) {
    this.calls.push(`timeToLive ${id} ${keys}`);
    const granted = this.ttls.get(id);
    if (granted === undefined) return { header, id, ttl: -1, grantedTtl: 0, keys: [] };
    return { header, id, ttl: granted - 1, grantedTtl: granted, keys: keys ? [Buffer.from('k1'), Buffer.from('k2')] : [] };
  }

  async leases() {
    return { header, leases: [-5n, BIG] };
  }
}

interface KeepAliveResponse {
  header: { revision: string };
  ID: string;
  TTL: string;
}

describe('the Lease service over gRPC', () => {
  let frontend: GrpcFrontend;
  let lease: RecordingLease;
  let client: RawClient;

  beforeEach(async () => {
    lease = new RecordingLease();
    frontend = new GrpcFrontend({ listen: [{ host: '127.0.0.1', port: 0 }], maxRequestBytes: 1.5 * 1024 * 1024 });
    await frontend.start(Object.assign(new MapServices(), { lease }));
    const loaded = grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
      etcdserverpb: Record<string, new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client>;
    };
    client = new RawClient(new loaded.etcdserverpb['Lease']!(`127.0.0.1:${frontend.boundAddresses[0]!.port}`, grpc.credentials.createInsecure()));
  });
  afterEach(async () => {
    client.close();
    await frontend.stop();
  });

  it("LeaseGrant passes TTL and ID through and answers etcd's fields, IDs exact past 2^53", async () => {
    const granted = await client.call('LeaseGrant', { TTL: 1, ID: 0 });
    expect(granted).to.deep.include({ ID: BIG.toString(), TTL: '2', error: '' });
    expect((granted['header'] as { cluster_id: string }).cluster_id).to.equal(header.clusterId.toString());
    const chosen = await client.call('LeaseGrant', { TTL: 60, ID: '-5' });
    expect(chosen).to.deep.include({ ID: '-5', TTL: '60' });
    expect(lease.calls).to.deep.equal(['grant 1 0', 'grant 60 -5']);
    const big = await client.failure('LeaseGrant', { TTL: '9000000001' });
    expect([big.code, big.details]).to.deep.equal([grpc.status.OUT_OF_RANGE, 'etcdserver: too large lease TTL']);
  });

  it('LeaseRevoke of an unknown lease fails NOT_FOUND with "etcdserver: requested lease not found"', async () => {
    expect(await client.call('LeaseRevoke', { ID: BIG.toString() })).to.have.property('header');
    const missing = await client.failure('LeaseRevoke', { ID: 1234 });
    expect([missing.code, missing.details]).to.deep.equal([grpc.status.NOT_FOUND, 'etcdserver: requested lease not found']);
  });

  it('LeaseTimeToLive answers TTL, grantedTTL and keys; an unknown lease TTL -1 without error', async () => {
    expect(await client.call('LeaseTimeToLive', { ID: BIG.toString(), keys: true })).to.deep.include({
      ID: BIG.toString(),
      TTL: '29',
      grantedTTL: '30',
      keys: [Buffer.from('k1'), Buffer.from('k2')],
    });
    expect(await client.call('LeaseTimeToLive', { ID: BIG.toString() })).to.deep.include({ keys: [] });
    expect(await client.call('LeaseTimeToLive', { ID: 1234, keys: true })).to.deep.include({ ID: '1234', TTL: '-1', grantedTTL: '0', keys: [] });
  });

  it('LeaseLeases lists every lease by ID', async () => {
    const listed = await client.call('LeaseLeases', {});
    expect(listed['leases']).to.deep.equal([{ ID: '-5' }, { ID: BIG.toString() }]);
  });

  it('LeaseKeepAlive answers each request on the stream (TTL 0 for an unknown lease) and ends when the client does', async () => {
    const stream = (client.client as unknown as { LeaseKeepAlive(): grpc.ClientDuplexStream<object, KeepAliveResponse> }).LeaseKeepAlive();
    const answers: KeepAliveResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: KeepAliveResponse) => answers.push(r));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write({ ID: BIG.toString() });
    stream.write({ ID: '-5' });
    stream.write({ ID: '1234' });
    stream.end();
    await ended;
    expect(answers.map((a) => [a.ID, a.TTL, a.header.revision]).sort()).to.deep.equal([
      ['-5', '10', '7'],
      ['1234', '0', '7'],
      [BIG.toString(), '30', '7'],
    ]);
  });

  it("LeaseKeepAlive ends the stream with etcd's status when a keep-alive fails (no leader)", async () => {
    lease.failKeepAlive = EtcdErrors.noLeader();
    const stream = (client.client as unknown as { LeaseKeepAlive(): grpc.ClientDuplexStream<object, KeepAliveResponse> }).LeaseKeepAlive();
    const failed = new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
    });
    stream.write({ ID: '-5' });
    const err = await failed;
    expect([err.code, err.details]).to.deep.equal([grpc.status.UNAVAILABLE, 'etcdserver: no leader']);
  });
});
