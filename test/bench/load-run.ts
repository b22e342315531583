import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { BenchOptions } from './bench-options.js';
import { EtcdKvChannel } from './etcd-kv-channel.js';
import { LatencyRecorder, summarize, type LatencySummary } from './latency-recorder.js';
import { measureKeepAlives } from './lease-keepalive-run.js';
import { measureLockContention } from './lock-contention-run.js';
import { measureWatchLatency } from './watch-latency-run.js';
import { WorkloadRequests } from './workload-requests.js';

export interface BenchResult {
  readonly workload: string;
  readonly endpoints: readonly string[];
  readonly conns: number;
  readonly clients: number;
  readonly workers: number;
  readonly keySize: number;
  readonly valSize: number;
  readonly keySpace: number;
  /** Successful operations in the measured phase. */
  readonly ops: number;
  readonly errors: number;
  /** A few distinct error messages, for diagnosis. */
  readonly errorSamples: readonly string[];
  readonly elapsedSec: number;
  readonly opsPerSec: number;
  readonly latencyMs: LatencySummary;
  /** This process's CPU (all threads) during the measured phase: is the generator the bottleneck? */
  readonly cpu: { readonly userMs: number; readonly systemMs: number; readonly percentOfOneCore: number };
  readonly prefill: { readonly keys: number; readonly elapsedSec: number };
}

/** What one thread measured; latencies sorted, in ms. */
export interface MeasuredRun {
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly elapsedMs: number;
}

const CONNECT_TIMEOUT_MS = 5000;
const MAX_ERROR_SAMPLES = 5;

/** Run `work(client)` for each of `clients` concurrent clients and wait for all. */
async function concurrently(clients: number, work: (client: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: clients }, (_, i) => work(i)));
}

async function openChannels(options: BenchOptions): Promise<EtcdKvChannel[]> {
  const channels = Array.from({ length: options.conns }, (_, i) => new EtcdKvChannel(options.endpoints[i % options.endpoints.length]!, options));
  try {
    await Promise.all(channels.map((c) => c.ready(CONNECT_TIMEOUT_MS)));
  } catch (err) {
    for (const channel of channels) channel.close();
    throw err;
  }
  return channels;
}

/** Write keys 0..prefill-1 with every client; returns seconds taken. */
async function prefill(options: BenchOptions): Promise<number> {
  if (options.prefill === 0) return 0;
  const channels = await openChannels(options);
  try {
    const requests = new WorkloadRequests(options);
    const start = performance.now();
    let nextKey = 0;
    await concurrently(options.clients, async (client) => {
      while (nextKey < options.prefill) {
        const { method, bytes } = requests.put(nextKey++);
        await channels[client % channels.length]!.call(method, bytes);
      }
    });
    return (performance.now() - start) / 1000;
  } finally {
    for (const channel of channels) channel.close();
  }
}

/** The measured phase in this thread: `clients` loops, each one request in flight. */
export async function measure(options: BenchOptions): Promise<MeasuredRun> {
  if (options.workload === 'lease-keepalive') return measureKeepAlives(options);
  if (options.workload === 'watch') return measureWatchLatency(options);
  if (options.workload === 'lock') return measureLockContention(options);
  const channels = await openChannels(options);
  try {
    const requests = new WorkloadRequests(options);
    const latencies = new LatencyRecorder();
    const errorSamples = new Set<string>();
    let issued = 0;
    let errors = 0;
    const start = performance.now();
    const deadline = options.durationSec === undefined ? Infinity : start + options.durationSec * 1000;
    await concurrently(options.clients, async (client) => {
      const channel = channels[client % channels.length]!;
      for (;;) {
        if (options.total !== undefined ? issued >= options.total : performance.now() >= deadline) return;
        issued++;
        const { method, bytes } = requests.next();
        const sent = performance.now();
        try {
          await channel.call(method, bytes);
          latencies.record(performance.now() - sent);
        } catch (err) {
          errors++;
          if (errorSamples.size < MAX_ERROR_SAMPLES) errorSamples.add((err as Error).message);
        }
      }
    });
    return { latencies: latencies.sorted(), errors, errorSamples: [...errorSamples], elapsedMs: performance.now() - start };
  } finally {
    for (const channel of channels) channel.close();
  }
}

/** Worker i's share of n: n split as evenly as possible. */
const share = (n: number, workers: number, i: number): number => Math.floor(n / workers) + (i < n % workers ? 1 : 0);

/** The measured phase split over worker threads, each with its share of clients, connections and operations. */
async function measureInWorkers(options: BenchOptions): Promise<MeasuredRun> {
  // Run the worker from the same kind of file as this one: .js when built; from the sources,
  // through tsx's loader, which worker threads do not inherit on Node 20.
  const fromSources = import.meta.url.endsWith('.ts');
  const workerFile = new URL(fromSources ? './load-worker.ts' : './load-worker.js', import.meta.url);
  const start = (part: BenchOptions): Worker =>
    fromSources
      ? new Worker(`import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(workerFile.href)}, ${JSON.stringify(import.meta.url)}))`, {
          eval: true,
          workerData: part,
        })
      : new Worker(workerFile, { workerData: part });
  const runs = await Promise.all(
    Array.from({ length: options.workers }, (_, i) => {
      const part: BenchOptions = {
        ...options,
        workers: 1,
        clients: share(options.clients, options.workers, i),
        conns: Math.max(1, share(options.conns, options.workers, i)),
        total: options.total === undefined ? undefined : share(options.total, options.workers, i),
      };
      return new Promise<MeasuredRun>((resolve, reject) => {
        const worker = start(part);
        worker.once('message', (run: MeasuredRun) => resolve(run));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`bench worker exited with code ${code} before reporting`)));
      });
    }),
  );
  const all = new Float64Array(runs.reduce((n, r) => n + r.latencies.length, 0));
  let at = 0;
  for (const run of runs) {
    all.set(run.latencies, at);
    at += run.latencies.length;
  }
  return {
    latencies: all.sort(),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    errorSamples: [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, MAX_ERROR_SAMPLES),
    elapsedMs: Math.max(...runs.map((r) => r.elapsedMs)),
  };
}

/** Prefill, then run the workload (in this thread or in --workers threads). Failed calls are counted, not thrown. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const prefillSec = await prefill(options);
  const cpuStart = process.cpuUsage();
  const run = options.workers === 1 ? await measure(options) : await measureInWorkers(options);
  const cpu = process.cpuUsage(cpuStart);
  return {
    workload: options.workload,
    endpoints: options.endpoints,
    conns: options.conns,
    clients: options.clients,
    workers: options.workers,
    keySize: options.keySize,
    valSize: options.valSize,
    keySpace: options.keySpace,
    ops: run.latencies.length,
    errors: run.errors,
    errorSamples: run.errorSamples,
    elapsedSec: run.elapsedMs / 1000,
    opsPerSec: run.latencies.length / (run.elapsedMs / 1000),
    latencyMs: summarize(run.latencies),
    cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000, percentOfOneCore: ((cpu.user + cpu.system) / 1000 / run.elapsedMs) * 100 },
    prefill: { keys: options.prefill, elapsedSec: prefillSec },
  };
}
