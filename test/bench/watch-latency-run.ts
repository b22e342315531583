import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { BenchOptions } from './bench-options.js';
import type { MeasuredRun } from './load-run.js';
import { RunTally } from './run-tally.js';

const CONNECT_TIMEOUT_MS = 5000;
/** A put whose event has not reached every watcher by then counts one error per missing watcher. */
const EVENT_TIMEOUT_MS = 5000;
const WATCHED_KEY = Buffer.from('bench-watch');
const passThrough = (bytes: Buffer): Buffer => bytes;

const varint = (n: number): number[] => {
  const out: number[] = [];
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 0x80) {
      out.push(v);
      return out;
    }
    out.push((v & 0x7f) | 0x80);
  }
};
/** A length-delimited protobuf field. */
const bytesField = (field: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(bytes.length)]), bytes]);

/** Which top-level fields a WatchResponse has: created (3) and events (11) are all this workload needs. */
function responseFields(bytes: Buffer): { created: boolean; events: boolean } {
  let at = 0;
  let created = false;
  let events = false;
  const readVarint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[at++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = readVarint();
    const field = tag >> 3;
    if ((tag & 7) === 0) {
      const v = readVarint();
      if (field === 3 && v === 1) created = true;
    } else if ((tag & 7) === 2) {
      const length = readVarint();
      if (field === 11) events = true;
      at += length;
    } else throw new Error(`unexpected wire type ${tag & 7} in a WatchResponse`);
  }
  return { created, events };
}

/**
 * The watch workload: --clients watchers of one key, spread over --conns connections with one
 * Watch stream each (as etcd clients multiplex them); one writer puts the key, one put at a time,
 * and waits until every watcher got the event before the next put. Measured per delivered event:
 * put sent → event received by that watcher (so "ops" are events delivered). A put that some
 * watchers never see within 5 s counts one error per watcher missing it.
 */
export async function measureWatchLatency(options: BenchOptions): Promise<MeasuredRun> {
  const channels = Array.from(
    { length: options.conns },
    (_, i) => new grpc.Client(options.endpoints[i % options.endpoints.length]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const writer = new grpc.Client(options.endpoints[0]!, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const streams: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
  try {
    await Promise.all(
      [...channels, writer].map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(err) : resolve()));
          }),
      ),
    );
    let pendingCreates = options.clients;
    let createdAll!: () => void;
    const allCreated = new Promise<void>((resolve) => {
      createdAll = resolve;
    });
    let sentAt = 0;
    let awaiting = 0;
    let delivered: (() => void) | undefined;
    // Set when the measured phase starts; the stream handlers above ignore events until then.
    let tally: RunTally | undefined = undefined;
    for (const channel of channels) {
      const stream = channel.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', passThrough, passThrough);
      stream.on('data', (response: Buffer) => {
        const fields = responseFields(response);
        if (fields.created && --pendingCreates === 0) createdAll();
        if (!fields.events || tally === undefined) return;
        tally.succeeded(sentAt);
        if (--awaiting === 0) delivered?.();
      });
      stream.on('error', () => undefined);
      streams.push(stream);
    }
    const create = bytesField(1, bytesField(1, WATCHED_KEY));
    for (let i = 0; i < options.clients; i++) streams[i % streams.length]!.write(create);
    await allCreated;

    const put = (value: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const request = Buffer.concat([bytesField(1, WATCHED_KEY), bytesField(2, Buffer.from(String(value).padStart(options.valSize, '0')))]);
        writer.makeUnaryRequest('/etcdserverpb.KV/Put', passThrough, passThrough, request, (err) => (err ? reject(err) : resolve()));
      });
    tally = new RunTally(options);
    for (let n = 0; tally.issue(); n++) {
      awaiting = options.clients;
      const all = new Promise<void>((resolve) => {
        delivered = resolve;
      });
      sentAt = performance.now();
      try {
        await put(n);
      } catch (err) {
        tally.failed((err as Error).message);
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), EVENT_TIMEOUT_MS);
      });
      if ((await Promise.race([all, late])) === 'late') {
        for (let i = 0; i < awaiting; i++) tally.failed(`a watcher got no event within ${EVENT_TIMEOUT_MS} ms of its put`);
        awaiting = 0;
      }
      clearTimeout(timer);
    }
    return tally.result();
  } finally {
    for (const s of streams) s.cancel();
    for (const c of channels) c.close();
    writer.close();
  }
}
