import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  fragmented,
  watchResponseSize,
  watchResponseToWire,
  type CairnServices,
  type StreamWatch,
  type WatchResponse,
  type WatchService,
  type WatchSession,
  type WireWatchResponse,
} from '@cairn/core';
import { etcdPackageDefinition, etcdServiceDefinition, GrpcFrontend } from '../src/index.js';
import { encodeWatchResponse } from '../src/watch-encoding.js';
import { MapServices } from './map-services.js';

const header = (revision: number) => ({ clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision, raftTerm: 2 });
const kv = (key: string, value: string, rev: number) => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  createRevision: 2,
  modRevision: rev,
  version: rev - 1,
  lease: 0n,
});
const response = (fields: Partial<WatchResponse>): WatchResponse => ({
  header: header(9),
  watchId: 0,
  created: false,
  canceled: false,
  compactRevision: 0,
  cancelReason: '',
  events: [],
  ...fields,
});
const method = etcdServiceDefinition('Watch')['Watch']!;
const decode = (bytes: Buffer): unknown => method.responseDeserialize(bytes);

/** A watch service whose one watch hands out `count` responses of `eventsPer` events of `valueBytes` each, counting pulls. */
class CountingWatchService implements WatchService {
  pulls = 0;
  constructor(
    private readonly count: number,
    private readonly eventsPer: number,
    private readonly valueBytes: number,
  ) {}

  openStream(): WatchSession {
    let n = 0;
    const watch: StreamWatch = {
      id: 0,
      fragment: true,
      // An arrow function, so `this` is the service.
      next: async () => {
        if (n >= this.count) return new Promise<undefined>(() => undefined);
        this.pulls++;
        const rev = 2 + n++;
        const events = Array.from({ length: this.eventsPer }, (_, i) => ({ type: 'put' as const, kv: kv(`k${i}`, 'x'.repeat(this.valueBytes), rev) }));
        return response({ header: header(rev), events });
      },
    };
    return {
      create: () => ({ response: response({ created: true, header: header(1) }), watch }),
      cancel: () => undefined,
      progress: () => response({ watchId: -1 }),
      onAbort: () => undefined,
      close: () => undefined,
    };
  }
}

async function serve(
  watch: WatchService,
  maxRequestBytes: number,
): Promise<{ frontend: GrpcFrontend; stream: grpc.ClientDuplexStream<object, WireWatchResponse>; close(): Promise<void> }> {
  const services: CairnServices = Object.assign(new MapServices(), { watch });
  const frontend = new GrpcFrontend({ listen: [{ host: '127.0.0.1', port: 0 }], maxRequestBytes });
  await frontend.start(services);
  const loaded = grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
    etcdserverpb: Record<string, new (address: string, credentials: grpc.ChannelCredentials, options?: object) => grpc.Client>;
  };
  const client = new loaded.etcdserverpb['Watch']!(`127.0.0.1:${frontend.boundAddresses[0]!.port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const stream = (client as unknown as { Watch(): grpc.ClientDuplexStream<object, WireWatchResponse> }).Watch();
  // Canceling at the end is the test's own doing.
  stream.on('error', () => undefined);
  return {
    frontend,
    stream,
    async close() {
      stream.cancel();
      client.close();
      await frontend.stop();
    },
  };
}

describe('api-grpc Watch', function () {
  this.timeout(20_000);

  it('encodes a WatchResponse as the generic protobuf encoder does, field for field', () => {
    const samples: WatchResponse[] = [
      response({ created: true, watchId: 7 }),
      response({ created: true, canceled: true, watchId: -1, cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream' }),
      response({ canceled: true, compactRevision: 5, header: header(0) }),
      response({
        events: [
          { type: 'put', kv: kv('a', '1', 3) },
          { type: 'delete', kv: { ...kv('b', '', 4), createRevision: 0, version: 0 } },
        ],
      }),
      response({ events: [{ type: 'put', kv: { ...kv('c', 'new', 5), lease: 0x7fffffffffffffffn }, prevKv: kv('c', 'old', 4) }] }),
    ];
    for (const sample of samples) {
      const wire = watchResponseToWire(sample);
      const generic = method.responseSerialize(wire);
      const mine = encodeWatchResponse(wire);
      expect(decode(mine)).to.deep.equal(decode(generic));
      // protobufjs also writes fields set to their default; proto3 (and etcd's Go code) leaves them out.
      expect(mine.length).to.be.at.most(generic.length);
      expect(watchResponseSize(wire)).to.equal(mine.length);
    }
  });

  it('cuts a fragment=true response at max-request-bytes, as etcd does: each part under the limit unless it is one event, the last not marked', () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, kv: kv(`key-${i}`, 'v'.repeat(1000 + i), 10) }));
    const wire = watchResponseToWire(response({ events }));
    const parts = fragmented(wire, 8 * 1024);
    expect(parts.length).to.be.greaterThan(5);
    expect(parts.slice(0, -1).every((p) => p.fragment)).to.equal(true);
    expect(parts[parts.length - 1]!.fragment).to.equal(false);
    for (const p of parts) expect(p.events.length === 1 || watchResponseSize(p) < 8 * 1024).to.equal(true);
    expect(parts.flatMap((p) => p.events)).to.deep.equal(wire.events);
    expect(fragmented(wire, 10 * 1024 * 1024)).to.deep.equal([wire]);
  });

  it('sends fragments over the stream and pulls no further while the client reads nothing', async () => {
    const service = new CountingWatchService(10_000, 20, 4096);
    const { stream, close } = await serve(service, 16 * 1024);
    try {
      const received: WireWatchResponse[] = [];
      stream.on('data', (r: WireWatchResponse) => received.push(r));
      stream.write({ create_request: { key: Buffer.from('k'), fragment: true } });
      while (received.length < 12) await new Promise((r) => setTimeout(r, 10));
      expect(received[0]!.created).to.equal(true);
      // 20 events of 4 KiB each in 16 KiB fragments: 3 events a part, 7 parts a response.
      const first = received.slice(1, 8);
      expect(first.map((r) => r.fragment)).to.deep.equal([true, true, true, true, true, true, false]);
      expect(first.flatMap((r) => r.events).length).to.equal(20);
      stream.pause();
      await new Promise((r) => setTimeout(r, 1000));
      const pulled = service.pulls;
      await new Promise((r) => setTimeout(r, 1000));
      // A paused client fills the flow-control window; after that the pump waits for 'drain'.
      expect(service.pulls).to.equal(pulled);
      expect(pulled).to.be.below(10_000);
      console.log(`      responses pulled before the stream blocked: ${pulled} of 10000 (each 80 KiB of events)`);
    } finally {
      await close();
    }
  });
});
