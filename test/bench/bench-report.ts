import type { BenchResult } from './load-run.js';

const ms = (v: number): string => `${v.toFixed(3)} ms`;

/** The result as a few lines for a terminal. */
export function formatBenchReport(r: BenchResult): string {
  const lines = [
    `workload ${r.workload}: ${r.clients} clients over ${r.conns} connections in ${r.workers} thread${r.workers === 1 ? '' : 's'} to ${r.endpoints.join(',')}; key ${r.keySize} B, value ${r.valSize} B, key space ${r.keySpace}`,
    r.prefill.keys > 0 ? `prefill: ${r.prefill.keys} keys in ${r.prefill.elapsedSec.toFixed(2)} s` : undefined,
    `ops:      ${r.ops} in ${r.elapsedSec.toFixed(2)} s = ${r.opsPerSec.toFixed(0)} ops/s`,
    `latency:  p50 ${ms(r.latencyMs.p50)}  p90 ${ms(r.latencyMs.p90)}  p99 ${ms(r.latencyMs.p99)}  max ${ms(r.latencyMs.max)}  mean ${ms(r.latencyMs.mean)}`,
    `errors:   ${r.errors}${r.errorSamples.length > 0 ? ` (${r.errorSamples.join(' | ')})` : ''}`,
    `bench cpu: user ${r.cpu.userMs.toFixed(0)} ms, system ${r.cpu.systemMs.toFixed(0)} ms = ${r.cpu.percentOfOneCore.toFixed(0)}% of one core`,
  ];
  return lines.filter((l) => l !== undefined).join('\n');
}
