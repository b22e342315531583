import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { CompareResult, CompareTarget, SortOrder, SortTarget } from '@cairn/core';
import { startHarness, type Harness, type RawClient } from './harness.js';

const b = (text: string): Buffer => Buffer.from(text);

describe('gRPC frontend: KV', () => {
  let harness: Harness;
  let kv: RawClient;

  beforeEach(async () => {
    harness = await startHarness();
    kv = harness.client('KV');
  });
  afterEach(async () => {
    await harness.close();
  });

  it('puts and reads back a key, with etcd header fields as uint64/int64 on the wire', async () => {
    const put = await kv.call<{ header: Record<string, string> }>('Put', { key: b('a'), value: b('1') });
    expect(put.header).to.deep.equal({
      cluster_id: BigInt('0xcdf818194e3a8c32').toString(),
      member_id: BigInt('0x8e9e05c52164694d').toString(),
      revision: '2',
      raft_term: '2',
    });
    const range = await kv.call<{ kvs: Record<string, unknown>[]; count: string; more: boolean }>('Range', { key: b('a') });
    expect(range.count).to.equal('1');
    expect(range.more).to.equal(false);
    expect(range.kvs).to.have.length(1);
    expect(range.kvs[0]).to.deep.include({ create_revision: '2', mod_revision: '2', version: '1', lease: '0' });
    expect((range.kvs[0]!['key'] as Buffer).toString()).to.equal('a');
    expect((range.kvs[0]!['value'] as Buffer).toString()).to.equal('1');
  });

  it('passes every RangeRequest option to the service, leaving proto3 defaults out', async () => {
    await kv.call('Put', { key: b('k'), value: b('v') });
    await kv.call('Range', {
      key: b('a'),
      range_end: b('z'),
      limit: 5,
      revision: 2,
      sort_order: 2,
      sort_target: 4,
      serializable: true,
      keys_only: true,
      count_only: true,
      min_mod_revision: 1,
      max_mod_revision: 9,
      min_create_revision: 2,
      max_create_revision: 8,
    });
    expect(harness.services.requests.at(-1)).to.deep.equal({
      key: b('a'),
      rangeEnd: b('z'),
      limit: 5,
      revision: 2,
      sortOrder: SortOrder.Descend,
      sortTarget: SortTarget.Value,
      serializable: true,
      keysOnly: true,
      countOnly: true,
      minModRevision: 1,
      maxModRevision: 9,
      minCreateRevision: 2,
      maxCreateRevision: 8,
    });
    await kv.call('Range', { key: b('a') });
    expect(harness.services.requests.at(-1)).to.deep.equal({ key: b('a') });
  });

  it('answers limit with more and the full count', async () => {
    for (const key of ['p1', 'p2', 'p3']) await kv.call('Put', { key: b(key), value: b('x') });
    const range = await kv.call<{ kvs: unknown[]; count: string; more: boolean }>('Range', { key: b('p'), range_end: b('q'), limit: 2 });
    expect(range.kvs).to.have.length(2);
    expect(range.more).to.equal(true);
    expect(range.count).to.equal('3');
  });

  it('puts with lease and prev_kv, and deletes a range with prev_kvs', async () => {
    await kv.call('Put', { key: b('x1'), value: b('old') });
    const put = await kv.call<{ prev_kv: Record<string, unknown> }>('Put', { key: b('x1'), value: b('new'), prev_kv: true, lease: '7205759403792793600' });
    expect((put.prev_kv['value'] as Buffer).toString()).to.equal('old');
    expect(harness.services.requests.at(-1)).to.deep.equal({ key: b('x1'), value: b('new'), prevKv: true, lease: 7205759403792793600n });
    const got = await kv.call<{ kvs: Record<string, unknown>[] }>('Range', { key: b('x1') });
    expect(got.kvs[0]!['lease']).to.equal('7205759403792793600');
    await kv.call('Put', { key: b('x2'), value: b('two') });
    const deleted = await kv.call<{ deleted: string; prev_kvs: Record<string, unknown>[] }>('DeleteRange', { key: b('x'), range_end: b('y'), prev_kv: true });
    expect(deleted.deleted).to.equal('2');
    expect(deleted.prev_kvs.map((kv) => (kv['key'] as Buffer).toString())).to.deep.equal(['x1', 'x2']);
  });

  it('maps txn compares (every target union member), nested txns and response ops both ways', async () => {
    await kv.call('Put', { key: b('t'), value: b('1') });
    const response = await kv.call<{ succeeded: boolean; responses: Record<string, unknown>[]; header: Record<string, string> }>('Txn', {
      compare: [
        { key: b('t'), target: 3, result: 0, value: b('1') },
        { key: b('t'), target: 0, result: 1, version: 0 },
        { key: b('t'), target: 1, result: 3, create_revision: 99 },
        { key: b('t'), target: 2, result: 2, mod_revision: 99 },
        { key: b('t'), target: 4, result: 0, lease: 0, range_end: b('u') },
      ],
      success: [
        { request_put: { key: b('t2'), value: b('2') } },
        { request_range: { key: b('t') } },
        { request_txn: { compare: [], success: [{ request_delete_range: { key: b('t2') } }], failure: [] } },
      ],
      failure: [{ request_put: { key: b('failed'), value: b('!') } }],
    });
    const request = harness.services.requests.at(-1);
    expect(request).to.deep.equal({
      compare: [
        { key: b('t'), target: CompareTarget.Value, result: CompareResult.Equal, value: b('1') },
        { key: b('t'), target: CompareTarget.Version, result: CompareResult.Greater, version: 0 },
        { key: b('t'), target: CompareTarget.Create, result: CompareResult.NotEqual, createRevision: 99 },
        { key: b('t'), target: CompareTarget.Mod, result: CompareResult.Less, modRevision: 99 },
        { key: b('t'), target: CompareTarget.Lease, result: CompareResult.Equal, lease: 0n, rangeEnd: b('u') },
      ],
      success: [
        { requestPut: { key: b('t2'), value: b('2') } },
        { requestRange: { key: b('t') } },
        { requestTxn: { compare: [], success: [{ requestDeleteRange: { key: b('t2') } }], failure: [] } },
      ],
      failure: [{ requestPut: { key: b('failed'), value: b('!') } }],
    });
    expect(response.succeeded).to.equal(true);
    expect(response.header['revision']).to.equal('3');
    expect(response.responses.map((op) => op['response'])).to.deep.equal(['response_put', 'response_range', 'response_txn']);
    const nested = response.responses[2]!['response_txn'] as { succeeded: boolean; responses: Record<string, { deleted: string }>[] };
    expect(nested.succeeded).to.equal(true);
    expect(nested.responses[0]!['response_delete_range']!.deleted).to.equal('1');
    const failed = await kv.call<{ succeeded: boolean; responses: Record<string, unknown>[] }>('Txn', {
      compare: [{ key: b('t'), target: 3, result: 0, value: b('nope') }],
      success: [],
      failure: [{ request_range: { key: b('t') } }],
    });
    expect(failed.succeeded).to.equal(false);
    expect(failed.responses[0]!['response']).to.equal('response_range');
  });

  it('compacts (physical passed on) and reports reads below the compaction as etcd does', async () => {
    await kv.call('Put', { key: b('c'), value: b('1') });
    await kv.call('Put', { key: b('c'), value: b('2') });
    const compact = await kv.call<{ header: Record<string, string> }>('Compact', { revision: 2, physical: true });
    expect(compact.header['revision']).to.equal('3');
    expect(harness.services.requests.at(-1)).to.deep.equal({ revision: 2, physical: true });
    const err = await kv.failure('Range', { key: b('c'), revision: 1 });
    expect(err.code).to.equal(status.OUT_OF_RANGE);
    expect(err.details).to.equal('etcdserver: mvcc: required revision has been compacted');
    const future = await kv.failure('Range', { key: b('c'), revision: 1000 });
    expect(future.code).to.equal(status.OUT_OF_RANGE);
    expect(future.details).to.equal('etcdserver: mvcc: required revision is a future revision');
  });

  it('turns an EtcdError into its code and exact message', async () => {
    const err = await kv.failure('Put', { key: Buffer.alloc(0), value: b('v') });
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.details).to.equal('etcdserver: key is not provided');
    // The frontend is healthy afterwards.
    await kv.call('Put', { key: b('ok'), value: b('v') });
  });

  it('turns any other failure into UNKNOWN with its message', async () => {
    harness.services.failWith = new TypeError('disk on fire');
    const err = await kv.failure('Range', { key: b('a') });
    expect(err.code).to.equal(status.UNKNOWN);
    expect(err.details).to.equal('disk on fire');
  });

  it('refuses writes over --max-request-bytes before they reach the service', async () => {
    await harness.close();
    harness = await startHarness({ maxRequestBytes: 1024 });
    kv = harness.client('KV');
    const before = harness.services.requests.length;
    for (const [method, request] of [
      ['Put', { key: b('big'), value: Buffer.alloc(2000) }],
      ['Txn', { compare: [], success: [{ request_put: { key: b('big'), value: Buffer.alloc(2000) } }], failure: [] }],
      ['DeleteRange', { key: Buffer.alloc(2000, 97) }],
    ] as const) {
      const err = await kv.failure(method, request);
      expect(err.code, method).to.equal(status.INVALID_ARGUMENT);
      expect(err.details, method).to.equal('etcdserver: request is too large');
    }
    expect(harness.services.requests.length).to.equal(before);
    // Reads are not proposals: etcd does not apply the limit to them.
    await kv.call('Range', { key: Buffer.alloc(2000, 97) });
    await kv.call('Put', { key: b('small'), value: Buffer.alloc(500) });
  });

  it('refuses messages over maxRecvBytes at the gRPC layer', async () => {
    await harness.close();
    harness = await startHarness({ maxRequestBytes: 1024, maxRecvBytes: 4096 });
    kv = harness.client('KV');
    const err = await kv.failure('Put', { key: b('huge'), value: Buffer.alloc(8000) });
    expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(harness.services.requests).to.have.length(0);
  });
});
