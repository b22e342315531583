import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { freeLoopbackPort, rejection, TemporaryDirectories } from '@cairn/core/testkit';
import { ChannelError, type WireMessage } from '@cairn/client';
import { startEmbeddedMember, type EmbeddedMemberHandle } from '../src/index.js';
import { GrpcReference } from './grpc-reference.js';
import { StreamRecorder } from './stream-recorder.js';

interface Kv {
  key: Buffer;
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  lease: string;
}
interface Header {
  revision: string;
}
interface RangeResponse {
  header: Header;
  kvs: Kv[];
  count: string;
}
interface WatchResponse {
  header: Header;
  watch_id: string;
  created: boolean;
  canceled: boolean;
  events: { type: number; kv: Kv; prev_kv: Kv | null }[];
}

const bytes = (s: string): Buffer => Buffer.from(s);
const MAX_REQUEST_BYTES = 4096;

describe('InProcessChannel: a member’s services through the client’s channel contract', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-embed');
  let embedded: EmbeddedMemberHandle;
  let grpcRef: GrpcReference;

  before(async () => {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    // The same member also serves gRPC on a socket: the reference every error is compared with.
    embedded = await startEmbeddedMember({
      'name': 'embed-channel',
      'data-dir': await dirs.make('channel'),
      'log-level': 'error',
      'listen-client-urls': url,
      'advertise-client-urls': url,
      'max-request-bytes': MAX_REQUEST_BYTES,
    });
    grpcRef = new GrpcReference(`127.0.0.1:${port}`);
  });

  after(async () => {
    grpcRef?.close();
    await embedded?.close();
    await dirs.removeAll();
  });

  const unary = <R>(service: Parameters<EmbeddedMemberHandle['channel']['unary']>[0], method: string, request: WireMessage): Promise<R> =>
    embedded.channel.unary(service, method, request) as Promise<R>;

  it('puts and ranges in etcd’s wire shape (int64 as decimal strings, bytes as Buffers)', async () => {
    const put = await unary<{ header: Header }>('KV', 'Put', { key: bytes('kv/a'), value: bytes('1') });
    const got = await unary<RangeResponse>('KV', 'Range', { key: bytes('kv/a') });
    expect(got.kvs).to.have.length(1);
    expect(Buffer.isBuffer(got.kvs[0]!.value)).to.equal(true);
    expect(got.kvs[0]!.value.toString()).to.equal('1');
    expect(got.kvs[0]!.mod_revision).to.equal(put.header.revision);
    expect(got.count).to.equal('1');
    expect(typeof got.header.revision).to.equal('string');
  });

  it('copies requests and responses as the wire would: neither side can change the other’s buffers', async () => {
    const value = bytes('original');
    const pending = unary('KV', 'Put', { key: bytes('kv/copy'), value });
    value.fill(0x7a); // the client reuses its buffer before the member has applied the put
    await pending;
    const first = await unary<RangeResponse>('KV', 'Range', { key: bytes('kv/copy') });
    expect(first.kvs[0]!.value.toString()).to.equal('original');
    first.kvs[0]!.value.fill(0x7a); // the client scribbles on what it was given
    first.kvs[0]!.key.fill(0x7a);
    const second = await unary<RangeResponse>('KV', 'Range', { key: bytes('kv/copy') });
    expect(second.kvs[0]!.value.toString()).to.equal('original');
    expect(second.kvs[0]!.key.toString()).to.equal('kv/copy');
  });

  it('fills in defaults and drops unknown fields as a decoder does', async () => {
    await unary('KV', 'Put', { key: bytes('kv/default'), value: bytes('v'), not_a_field: 'ignored' });
    // No range_end, no limit, no revision: the member sees zeros and an empty range end (one key).
    const got = await unary<RangeResponse>('KV', 'Range', { key: bytes('kv/default') });
    expect(got.kvs.map((kv) => kv.key.toString())).to.deep.equal(['kv/default']);
  });

  it('runs a txn: compare, success and failure branches', async () => {
    await unary('KV', 'Put', { key: bytes('txn/k'), value: bytes('v1') });
    const txn = (expected: string): Promise<{ succeeded: boolean; responses: { response: string; response_range?: RangeResponse }[] }> =>
      unary('KV', 'Txn', {
        compare: [{ key: bytes('txn/k'), target: 3 /* VALUE */, result: 0 /* EQUAL */, value: bytes(expected) }],
        success: [{ request_put: { key: bytes('txn/k'), value: bytes('v2') } }],
        failure: [{ request_range: { key: bytes('txn/k') } }],
      });
    const won = await txn('v1');
    expect(won.succeeded).to.equal(true);
    expect(won.responses[0]!.response).to.equal('response_put');
    const lost = await txn('v1');
    expect(lost.succeeded).to.equal(false);
    expect(lost.responses[0]!.response).to.equal('response_range');
    expect(lost.responses[0]!.response_range!.kvs[0]!.value.toString()).to.equal('v2');
  });

  describe('errors: the gRPC frontend’s code and etcd’s text', () => {
    const cases: { what: string; service: 'KV' | 'Lease'; grpcService: string; method: string; request: () => WireMessage }[] = [
      { what: 'an empty key', service: 'KV', grpcService: 'etcdserverpb.KV', method: 'Put', request: () => ({ key: Buffer.alloc(0), value: bytes('v') }) },
      {
        what: 'a write over --max-request-bytes',
        service: 'KV',
        grpcService: 'etcdserverpb.KV',
        method: 'Put',
        request: () => ({ key: bytes('big'), value: Buffer.alloc(MAX_REQUEST_BYTES + 10, 1) }),
      },
      { what: 'a future revision', service: 'KV', grpcService: 'etcdserverpb.KV', method: 'Range', request: () => ({ key: bytes('x'), revision: '999999' }) },
      { what: 'an unknown lease', service: 'Lease', grpcService: 'etcdserverpb.Lease', method: 'LeaseRevoke', request: () => ({ ID: '12345' }) },
    ];
    for (const c of cases) {
      it(`${c.what}`, async () => {
        const reference = await grpcRef.unary(c.grpcService, c.method, c.request());
        expect(reference.error, 'the gRPC frontend refuses it').to.not.equal(undefined);
        const error = await rejection(embedded.channel.unary(c.service, c.method, c.request()));
        expect(error).to.be.instanceOf(ChannelError);
        expect({ code: (error as ChannelError).code, details: (error as ChannelError).details }).to.deep.equal(reference.error);
      });
    }

    it('a method the member does not serve is UNIMPLEMENTED', async () => {
      const error = (await rejection(embedded.channel.unary('KV', 'NoSuchMethod', {}))) as ChannelError;
      expect(error.code).to.equal(12);
      expect(error.details).to.equal('The server does not implement the method /etcdserverpb.KV/NoSuchMethod');
    });
  });

  it('watches: created, events in order with prev_kv, cancel, and nothing after the client’s cancel', async () => {
    const stream = embedded.channel.duplex('Watch', 'Watch');
    const recorder = new StreamRecorder<WatchResponse>(stream);
    stream.write({ create_request: { key: bytes('w/'), range_end: bytes('w0'), prev_kv: true } });
    const created = await recorder.next((r) => r.created);
    expect(created.canceled).to.equal(false);
    await unary('KV', 'Put', { key: bytes('w/1'), value: bytes('a') });
    await unary('KV', 'Put', { key: bytes('w/1'), value: bytes('b') });
    await unary('KV', 'DeleteRange', { key: bytes('w/1') });
    const seen: string[] = [];
    while (seen.length < 3) {
      const r = await recorder.next((m) => m.events.length > 0);
      for (const e of r.events) seen.push(`${e.type}:${e.kv.key.toString()}:${e.kv.value.toString()}:${e.prev_kv?.value.toString() ?? ''}`);
    }
    expect(seen).to.deep.equal(['0:w/1:a:', '0:w/1:b:a', '1:w/1::b']);
    stream.write({ cancel_request: { watch_id: created.watch_id } });
    const canceled = await recorder.next((r) => r.canceled);
    expect(canceled.watch_id).to.equal(created.watch_id);
    // A second watch on the same stream, then the client cancels the stream: nothing more arrives.
    stream.write({ create_request: { key: bytes('w/'), range_end: bytes('w0') } });
    await recorder.next((r) => r.created);
    stream.cancel();
    const delivered = recorder.messages.length;
    await unary('KV', 'Put', { key: bytes('w/2'), value: bytes('c') });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(recorder.messages).to.have.length(delivered);
    expect(recorder.ended || recorder.error !== undefined).to.equal(false);
  });

  it('delivers a burst of events exactly once, in revision order', async () => {
    const stream = embedded.channel.duplex('Watch', 'Watch');
    const recorder = new StreamRecorder<WatchResponse>(stream);
    stream.write({ create_request: { key: bytes('burst/'), range_end: bytes('burst0') } });
    await recorder.next((r) => r.created);
    const count = 300;
    const puts = await Promise.all(
      Array.from({ length: count }, (_, i) => unary<{ header: Header }>('KV', 'Put', { key: bytes(`burst/${i % 7}`), value: bytes(String(i)) })),
    );
    const revisions: bigint[] = [];
    while (revisions.length < count) for (const e of (await recorder.next((r) => r.events.length > 0)).events) revisions.push(BigInt(e.kv.mod_revision));
    expect(revisions).to.deep.equal(puts.map((p) => BigInt(p.header.revision)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    stream.cancel();
  });

  it('watches from a past revision replay history', async () => {
    const first = await unary<{ header: Header }>('KV', 'Put', { key: bytes('h/1'), value: bytes('x') });
    await unary('KV', 'Put', { key: bytes('h/1'), value: bytes('y') });
    const stream = embedded.channel.duplex('Watch', 'Watch');
    const recorder = new StreamRecorder<WatchResponse>(stream);
    stream.write({ create_request: { key: bytes('h/1'), start_revision: first.header.revision } });
    const values: string[] = [];
    while (values.length < 2) for (const e of (await recorder.next((r) => r.events.length > 0)).events) values.push(e.kv.value.toString());
    expect(values).to.deep.equal(['x', 'y']);
    stream.cancel();
  });

  it('grants a lease and keeps it alive on the LeaseKeepAlive stream; the half-close ends it', async () => {
    const granted = await unary<{ ID: string; TTL: string }>('Lease', 'LeaseGrant', { TTL: '7' });
    expect(granted.TTL).to.equal('7');
    const stream = embedded.channel.duplex('Lease', 'LeaseKeepAlive');
    const recorder = new StreamRecorder<{ ID: string; TTL: string }>(stream);
    stream.write({ ID: granted.ID });
    const renewed = await recorder.next();
    expect(renewed).to.include({ ID: granted.ID, TTL: '7' });
    stream.write({ ID: '424242' }); // gone: etcd answers TTL 0
    expect(await recorder.next()).to.include({ ID: '424242', TTL: '0' });
    stream.end();
    await recorder.finished();
    expect(recorder.ended).to.equal(true);
    const ttl = await unary<{ TTL: string; grantedTTL: string }>('Lease', 'LeaseTimeToLive', { ID: granted.ID });
    expect(ttl.grantedTTL).to.equal('7');
    await unary('Lease', 'LeaseRevoke', { ID: granted.ID });
  });

  it('locks: a second Lock waits, its deadline fails it with DEADLINE_EXCEEDED, an abort rejects with the signal’s reason', async () => {
    const lease = await unary<{ ID: string }>('Lease', 'LeaseGrant', { TTL: '30' });
    const held = await unary<{ key: Buffer }>('Lock', 'Lock', { name: bytes('lock/a'), lease: lease.ID });
    expect(held.key.toString().startsWith('lock/a/')).to.equal(true);
    const other = await unary<{ ID: string }>('Lease', 'LeaseGrant', { TTL: '30' });
    const timedOut = (await rejection(
      embedded.channel.unary('Lock', 'Lock', { name: bytes('lock/a'), lease: other.ID }, { deadline: Date.now() + 300 }),
    )) as ChannelError;
    expect(timedOut).to.be.instanceOf(ChannelError);
    expect(timedOut.code).to.equal(4);
    const controller = new AbortController();
    const waiting = embedded.channel.unary('Lock', 'Lock', { name: bytes('lock/a'), lease: other.ID }, { signal: controller.signal });
    const reason = new Error('no longer needed');
    setTimeout(() => controller.abort(reason), 100);
    expect(await rejection(waiting)).to.equal(reason);
    // Once released, the next Lock is granted.
    await unary('Lock', 'Unlock', { key: held.key });
    const next = await unary<{ key: Buffer }>('Lock', 'Lock', { name: bytes('lock/a'), lease: other.ID });
    expect(next.key.toString().startsWith('lock/a/')).to.equal(true);
    await unary('Lease', 'LeaseRevoke', { ID: lease.ID });
    await unary('Lease', 'LeaseRevoke', { ID: other.ID });
  });

  it('observes an election: the leader, then each proclamation', async () => {
    const lease = await unary<{ ID: string }>('Lease', 'LeaseGrant', { TTL: '30' });
    const won = await unary<{ leader: { name: Buffer; key: Buffer; rev: string; lease: string } }>('Election', 'Campaign', {
      name: bytes('elect/a'),
      lease: lease.ID,
      value: bytes('first'),
    });
    const stream = embedded.channel.serverStream('Election', 'Observe', { name: bytes('elect/a') });
    const recorder = new StreamRecorder<{ kv: Kv }>(stream);
    expect((await recorder.next()).kv.value.toString()).to.equal('first');
    await unary('Election', 'Proclaim', { leader: won.leader, value: bytes('second') });
    expect((await recorder.next()).kv.value.toString()).to.equal('second');
    stream.cancel();
    await unary('Election', 'Resign', { leader: won.leader });
    await unary('Lease', 'LeaseRevoke', { ID: lease.ID });
  });

  it('streams a snapshot whose trailer is the SHA-256 of its data', async () => {
    const stream = embedded.channel.serverStream('Maintenance', 'Snapshot', {});
    const recorder = new StreamRecorder<{ remaining_bytes: string; blob: Buffer }>(stream);
    await recorder.finished(20_000);
    expect(recorder.error).to.equal(undefined);
    const blobs = recorder.messages.map((m) => m.blob);
    expect(blobs.length).to.be.greaterThan(1);
    const data = Buffer.concat(blobs.slice(0, -1));
    expect(createHash('sha256').update(data).digest().equals(blobs.at(-1)!)).to.equal(true);
  });

  it('a stream on a method that is not one fails with UNIMPLEMENTED', async () => {
    const recorder = new StreamRecorder(embedded.channel.serverStream('KV', 'Range', {}));
    await recorder.finished();
    expect(recorder.error?.code).to.equal(12);
  });
});
