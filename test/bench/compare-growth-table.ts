/**
 * The large-store part of `npm run bench:compare` (GROWTH=1): for each of the KEYS counts, one
 * member of each server loaded with that many keys, then restarted. Cairn's figures beside
 * etcd's, as the second marked table of docs/performance.md: how cost grows with the store.
 */
import type { RunMeta, Server } from './compare-table.js';

/** What the shell measured for one server (test/bench/perf-compare.sh, growth part). */
export interface GrowthSample {
  readonly server: Server;
  readonly keys: number;
  readonly valueBytes: number;
  /** Writing the keys at 64 clients: seconds, and puts per second. */
  readonly loadSec: number;
  readonly loadPutsPerSec: number;
  /** After the load: the member's VmRSS and RssAnon (file-backed mmap pages count only in the first). */
  readonly rssMiB: number;
  readonly rssAnonMiB: number;
  /** Size of the data dir after the load. */
  readonly diskMiB: number;
  /** From starting the process to the first answered linearizable read. */
  readonly restartSec: number;
  readonly rssAfterRestartMiB: number;
  /** Puts at 64 clients over the loaded key space (overwrites), for DURATION (absent if that run failed). */
  readonly putOpsPerSec?: number;
  readonly putP99Ms?: number;
  /** Linearizable range at 64 clients over the loaded key space, after the restart (absent if that run failed). */
  readonly rangeOpsPerSec?: number;
  readonly rangeP99Ms?: number;
}

export const GROWTH_BEGIN = '<!-- bench:growth begin -->';
export const GROWTH_END = '<!-- bench:growth end -->';

interface Measure {
  readonly label: string;
  readonly value: (s: GrowthSample) => number | undefined;
  readonly digits: number;
}

const MEASURES: readonly Measure[] = [
  { label: 'load at 64 clients, puts/s', value: (s) => s.loadPutsPerSec, digits: 0 },
  { label: 'load time, s', value: (s) => s.loadSec, digits: 1 },
  { label: 'put over the loaded keys, 64 clients, ops/s', value: (s) => s.putOpsPerSec, digits: 0 },
  { label: 'put over the loaded keys, 64 clients, p99 ms', value: (s) => s.putP99Ms, digits: 2 },
  { label: 'RSS after the load, MiB', value: (s) => s.rssMiB, digits: 0 },
  { label: 'RssAnon after the load, MiB', value: (s) => s.rssAnonMiB, digits: 0 },
  { label: 'data dir, MiB', value: (s) => s.diskMiB, digits: 0 },
  { label: 'restart to the first linearizable read, s', value: (s) => s.restartSec, digits: 2 },
  { label: 'RSS after the restart, MiB', value: (s) => s.rssAfterRestartMiB, digits: 0 },
  { label: 'range linearizable after the restart, 64 clients, ops/s', value: (s) => s.rangeOpsPerSec, digits: 0 },
  { label: 'range linearizable after the restart, p99 ms', value: (s) => s.rangeP99Ms, digits: 2 },
];

/** The markdown between the growth markers: one line of context, then each measure at each key count. */
export function renderGrowthSection(samples: readonly GrowthSample[], meta: RunMeta): string {
  const keyCounts = [...new Set(samples.map((s) => s.keys))].sort((a, b) => a - b);
  if (keyCounts.length === 0) return '';
  const day = meta.date.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  const lines = [
    `Generated ${day} by \`${meta.command}\` at commit ${meta.commit}: for each key count, one fresh member of each server, ` +
      `${keyCounts.map((k) => k.toLocaleString('en-US')).join(' / ')} keys of ${samples[0]!.valueBytes} B written by 64 clients, ` +
      `then the member stopped (SIGTERM) and started again on its data. ratio = cairn ÷ etcd.`,
    '',
    '| measure | keys | etcd | cairn | ratio |',
    '|---|---|---|---|---|',
  ];
  for (const m of MEASURES) {
    for (const keys of keyCounts) {
      const of = (server: Server): number | undefined => {
        const sample = samples.find((s) => s.server === server && s.keys === keys);
        return sample === undefined ? undefined : m.value(sample);
      };
      const e = of('etcd');
      const c = of('cairn');
      const text = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(m.digits));
      const ratio = e === undefined || c === undefined || e === 0 ? 'n/a' : (c / e).toFixed(2);
      lines.push(`| ${m.label} | ${keys.toLocaleString('en-US')} | ${text(e)} | ${text(c)} | ${ratio} |`);
    }
  }
  return lines.join('\n');
}
