import { performance } from 'node:perf_hooks';
import type { BenchOptions } from './bench-options.js';
import { EtcdKvChannel } from './etcd-kv-channel.js';
import { LatencyRecorder, summarize, type LatencySummary } from './latency-recorder.js';
import { WorkloadRequests } from './workload-requests.js';

export interface BenchResult {
  readonly workload: string;
  readonly endpoints: readonly string[];
  readonly conns: number;
  readonly clients: number;
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
  /** This process's CPU during the measured phase: is the generator itself the bottleneck? */
  readonly cpu: { readonly userMs: number; readonly systemMs: number; readonly percentOfOneCore: number };
  readonly prefill: { readonly keys: number; readonly elapsedSec: number };
}

const CONNECT_TIMEOUT_MS = 5000;
const MAX_ERROR_SAMPLES = 5;

/** Run `work(client)` for each of `clients` concurrent clients and wait for all. */
async function concurrently(clients: number, work: (client: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: clients }, (_, i) => work(i)));
}

/** Open the connections, prefill, run the workload, close. Errors of single calls are counted, not thrown. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const channels = Array.from({ length: options.conns }, (_, i) => new EtcdKvChannel(options.endpoints[i % options.endpoints.length]!));
  try {
    await Promise.all(channels.map((c) => c.ready(CONNECT_TIMEOUT_MS)));
    const requests = new WorkloadRequests(options);
    const channelOf = (client: number): EtcdKvChannel => channels[client % channels.length]!;

    const prefillStart = performance.now();
    let nextKey = 0;
    await concurrently(options.clients, async (client) => {
      while (nextKey < options.prefill) {
        const { method, bytes } = requests.put(nextKey++);
        await channelOf(client).call(method, bytes);
      }
    });
    const prefillSec = (performance.now() - prefillStart) / 1000;

    const latencies = new LatencyRecorder();
    const errorSamples = new Set<string>();
    let issued = 0;
    let errors = 0;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const deadline = options.durationSec === undefined ? Infinity : start + options.durationSec * 1000;
    await concurrently(options.clients, async (client) => {
      const channel = channelOf(client);
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
    const elapsedMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    return {
      workload: options.workload,
      endpoints: options.endpoints,
      conns: options.conns,
      clients: options.clients,
      keySize: options.keySize,
      valSize: options.valSize,
      keySpace: options.keySpace,
      ops: latencies.count,
      errors,
      errorSamples: [...errorSamples],
      elapsedSec: elapsedMs / 1000,
      opsPerSec: latencies.count / (elapsedMs / 1000),
      latencyMs: summarize(latencies.sorted()),
      cpu: { userMs: cpu.user / 1000, systemMs: cpu.system / 1000, percentOfOneCore: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 },
      prefill: { keys: options.prefill, elapsedSec: prefillSec },
    };
  } finally {
    for (const channel of channels) channel.close();
  }
}
