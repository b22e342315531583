#!/usr/bin/env node
/**
 * The watch fan-out row of `npm run bench:compare`: --watchers watchers of one prefix (each its own
 * Watch stream, spread over --conns connections) and --writers writers putting their own key under
 * that prefix, one put in flight each, the next as soon as the last is answered. Every event a
 * watcher receives is one sample: its put sent → that watcher got it. ops/s counts delivered
 * events. After the duration the writers stop and the events still due get 5 s; each missing one
 * is an error. Prints one JSON object shaped as `npm run bench -- --json`'s.
 *
 *   node test/dist/bench/compare-watch-fanout.js --endpoints 127.0.0.1:2379 --writers 16 --watchers 8 --duration 10
 */
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeWatchResponse } from './compare-watch-events.js';
import { encodePutRequest } from './etcd-request-encoding.js';
import { LatencyRecorder, summarize } from './latency-recorder.js';
import type { BenchResult } from './load-run.js';

const CONNECT_TIMEOUT_MS = 5000;
const DRAIN_TIMEOUT_MS = 5000;
const MAX_ERROR_SAMPLES = 5;
const PREFIX = 'bench-fanout/';
const passThrough = (bytes: Buffer): Buffer => bytes;

interface FanoutOptions {
  readonly endpoints: readonly string[];
  readonly writers: number;
  readonly watchers: number;
  readonly conns: number;
  readonly durationSec: number;
  readonly valSize: number;
}

function parseOptions(argv: readonly string[]): FanoutOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      endpoints: { type: 'string' },
      writers: { type: 'string' },
      watchers: { type: 'string' },
      conns: { type: 'string' },
      duration: { type: 'string' },
      'val-size': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const positive = (name: string, text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer, not "${text}"`);
    return n;
  };
  const durationSec = Number((values.duration ?? '10').replace(/s$/, ''));
  if (!(durationSec > 0)) throw new Error(`--duration must be a positive number of seconds`);
  return {
    endpoints: (values.endpoints ?? '127.0.0.1:2379').split(',').map((e) => e.trim().replace(/^https?:\/\//, '')),
    writers: positive('writers', values.writers, 16),
    watchers: positive('watchers', values.watchers, 8),
    conns: positive('conns', values.conns, 4),
    durationSec,
    // Long enough for a sequence number of any run: writer and sequence travel in the value.
    valSize: positive('val-size', values['val-size'], 16),
  };
}

function connect(endpoint: string): Promise<grpc.Client> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(new Error(`${endpoint}: ${err.message}`)) : resolve(client))),
  );
}

/** A WatchRequest{create_request = 1: {key = 1, range_end = 2}} for every key under PREFIX. */
function watchPrefixRequest(): Buffer {
  const key = Buffer.from(PREFIX);
  const end = Buffer.from(key);
  end[end.length - 1]! += 1;
  const create = Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, end.length]), end]);
  return Buffer.concat([Buffer.from([0x0a, create.length]), create]);
}

/** The fan-out run; failures are counted in the result, not thrown (except failing to connect). */
async function measureWatchFanout(options: FanoutOptions): Promise<BenchResult> {
  const endpoint = (i: number): string => options.endpoints[i % options.endpoints.length]!;
  const clients = await Promise.all(Array.from({ length: options.conns }, (_, i) => connect(endpoint(i))));
  const streams: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
  const latencies = new LatencyRecorder();
  const errorSamples = new Set<string>();
  let errors = 0;
  const fail = (message: string, count = 1): void => {
    errors += count;
    if (errorSamples.size < MAX_ERROR_SAMPLES) errorSamples.add(message);
  };
  // due.get(`writer:seq`) = [when that put was sent, watchers yet to receive its event].
  const due = new Map<string, [number, number]>();
  let drained: (() => void) | undefined;
  try {
    let pendingCreates = options.watchers;
    const created = new Promise<void>((resolve, reject) => {
      for (let w = 0; w < options.watchers; w++) {
        const stream = clients[w % clients.length]!.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', passThrough, passThrough);
        stream.on('data', (response: Buffer) => {
          const now = performance.now();
          const fields = decodeWatchResponse(response);
          if (fields.created && --pendingCreates === 0) resolve();
          if (fields.canceled) reject(new Error('the server canceled a watch'));
          for (const event of fields.events) {
            const id = event.value.toString().trim();
            const entry = due.get(id);
            if (entry === undefined) continue;
            latencies.record(now - entry[0]);
            if (--entry[1] === 0) due.delete(id);
          }
          if (due.size === 0) drained?.();
        });
        stream.on('error', (err: Error) => {
          if (!(err as grpc.ServiceError).code || (err as grpc.ServiceError).code !== grpc.status.CANCELLED) fail(`watch stream: ${err.message}`);
        });
        stream.write(watchPrefixRequest());
        streams.push(stream);
      }
    });
    await created;

    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const deadline = start + options.durationSec * 1000;
    await Promise.all(
      Array.from({ length: options.writers }, async (_, writer) => {
        const client = clients[writer % clients.length]!;
        const key = Buffer.from(`${PREFIX}${writer}`);
        for (let seq = 0; performance.now() < deadline; seq++) {
          const id = `${writer}:${seq}`;
          const request = encodePutRequest(key, Buffer.from(id.padEnd(options.valSize)));
          due.set(id, [performance.now(), options.watchers]);
          try {
            await new Promise<void>((resolve, reject) =>
              client.makeUnaryRequest('/etcdserverpb.KV/Put', passThrough, passThrough, request, (err) => (err ? reject(err) : resolve())),
            );
          } catch (err) {
            // A failed put may still have been applied; its events, if any, are not counted.
            due.delete(id);
            fail(`put: ${(err as Error).message}`);
          }
        }
      }),
    );
    const writersDone = performance.now();
    if (due.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        drained = resolve;
        timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
      });
      clearTimeout(timer);
    }
    const missing = [...due.values()].reduce((n, [, left]) => n + left, 0);
    if (missing > 0) fail(`${missing} events not delivered within ${DRAIN_TIMEOUT_MS} ms of the last put`, missing);
    // The last events' delivery belongs to the run; a drain that timed out does not.
    const elapsedMs = (missing > 0 ? writersDone : performance.now()) - start;
    const cpu = process.cpuUsage(cpuStart);
    const sorted = latencies.sorted();
    return {
      workload: `watch-fanout ${options.writers} writers x ${options.watchers} watchers`,
      endpoints: options.endpoints,
      conns: options.conns,
      clients: options.writers,
      workers: 1,
      keySize: `${PREFIX}${options.writers - 1}`.length,
      valSize: options.valSize,
      keySpace: options.writers,
      ops: sorted.length,
      errors,
      errorSamples: [...errorSamples],
      elapsedSec: elapsedMs / 1000,
      opsPerSec: sorted.length / (elapsedMs / 1000),
      latencyMs: summarize(sorted),
      cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000, percentOfOneCore: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 },
      prefill: { keys: 0, elapsedSec: 0 },
    };
  } finally {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
  }
}

Promise.resolve()
  .then(() => measureWatchFanout(parseOptions(process.argv.slice(2))))
  .then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exitCode = result.errors > 0 ? 1 : 0;
    },
    (err: unknown) => {
      console.error(`watch-fanout: ${(err as Error).message}`);
      process.exitCode = 1;
    },
  );
