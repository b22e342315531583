/**
 * From the runs of `npm run bench:compare` to the table in docs/performance.md: medians over the
 * repetitions, cairn/etcd ratios, server CPU per acknowledged put, and the markdown between the
 * marker comments. Pure functions over plain data, so the figures in the doc can be re-derived
 * from the samples kept in the results JSON.
 */
import type { CompareRow } from './compare-rows.js';

export type Server = 'etcd' | 'cairn';
export const SERVERS: readonly Server[] = ['etcd', 'cairn'];

/** What the load generator reported for one run (a BenchResult's fields that the table uses). */
export interface RunFigures {
  readonly ops: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly opsPerSec: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  /** The generator's own CPU: its share of the machine is not the servers'. */
  readonly cpu: { readonly userMs: number; readonly systemMs: number };
}

/** One run of one row against one cluster in one repetition. */
export interface RunSample {
  readonly members: number;
  readonly server: Server;
  readonly rep: number;
  readonly row: string;
  /** Undefined when the generator printed nothing usable (it crashed, or could not connect). */
  readonly result?: RunFigures;
  /** utime + stime of every member of the cluster during the run, summed (from /proc/<pid>/stat). */
  readonly serverCpuSec: number;
  /** Busy CPU time of the whole machine during the run (from /proc/stat), in seconds of one core. */
  readonly machineBusySec: number;
  readonly wallSec: number;
  /** The machine's 1-minute load average when the run began. */
  readonly loadAverage1?: number;
}

export interface ServerFigures {
  /** Medians over the repetitions that produced a result. */
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Each repetition's ops/s, in repetition order, to show the spread. */
  readonly opsPerSecRuns: readonly number[];
  /** Failed calls over all repetitions. */
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Repetitions without a result. */
  readonly missingRuns: number;
}

export interface RowSummary {
  readonly row: string;
  readonly label: string;
  readonly members: number;
  readonly etcd?: ServerFigures;
  readonly cairn?: ServerFigures;
  /** cairn ops/s / etcd ops/s, of the medians. */
  readonly ratio?: number;
}

export interface CpuPerPut {
  readonly members: number;
  /** Medians over the repetitions of (server CPU over the put rows / acknowledged puts), in ms. */
  readonly etcdMs?: number;
  readonly cairnMs?: number;
  readonly ratio?: number;
  /** The put rows the figure covers. */
  readonly rows: readonly string[];
}

export interface CompareSummary {
  readonly rows: readonly RowSummary[];
  readonly cpuPerPut: readonly CpuPerPut[];
  /**
   * CPU that neither the servers nor the generator used while the runs went on (other processes),
   * in cores: median and max over the runs. Says how loaded the machine was.
   */
  readonly outsideLoadCores?: { readonly median: number; readonly max: number };
}

/** The median (mean of the middle two for an even count); undefined for no values. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ratioOf = (cairn: number | undefined, etcd: number | undefined): number | undefined =>
  cairn === undefined || etcd === undefined || etcd === 0 ? undefined : cairn / etcd;

function serverFigures(samples: readonly RunSample[]): ServerFigures | undefined {
  const runs = [...samples].sort((a, b) => a.rep - b.rep);
  const results = runs.flatMap((s) => (s.result === undefined ? [] : [s.result]));
  if (results.length === 0) return undefined;
  return {
    opsPerSec: median(results.map((r) => r.opsPerSec))!,
    p50Ms: median(results.map((r) => r.latencyMs.p50))!,
    p99Ms: median(results.map((r) => r.latencyMs.p99))!,
    opsPerSecRuns: results.map((r) => r.opsPerSec),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: [...new Set(results.flatMap((r) => r.errorSamples))].slice(0, 3),
    missingRuns: runs.length - results.length,
  };
}

/** Server CPU per acknowledged put of one repetition: its put rows' CPU over their puts, in ms. */
function cpuPerPutOfRep(samples: readonly RunSample[]): number | undefined {
  const puts = samples.reduce((n, s) => n + (s.result?.ops ?? 0), 0);
  if (puts === 0 || samples.some((s) => s.result === undefined)) return undefined;
  return (samples.reduce((t, s) => t + s.serverCpuSec, 0) * 1000) / puts;
}

/** Medians, ratios and CPU per put for every (row, member count) the samples cover, in catalogue order. */
export function summarizeRuns(samples: readonly RunSample[], rows: readonly CompareRow[]): CompareSummary {
  const memberCounts = [...new Set(samples.map((s) => s.members))].sort((a, b) => b - a);
  const summaries: RowSummary[] = [];
  for (const row of rows) {
    for (const members of memberCounts) {
      const of = (server: Server) => samples.filter((s) => s.row === row.id && s.members === members && s.server === server);
      if (of('etcd').length === 0 && of('cairn').length === 0) continue;
      const etcd = serverFigures(of('etcd'));
      const cairn = serverFigures(of('cairn'));
      const ratio = ratioOf(cairn?.opsPerSec, etcd?.opsPerSec);
      summaries.push({ row: row.id, label: row.label, members, ...(etcd && { etcd }), ...(cairn && { cairn }), ...(ratio !== undefined && { ratio }) });
    }
  }
  const putRows = rows.filter((r) => r.phase === 'put').map((r) => r.id);
  const cpuPerPut: CpuPerPut[] = [];
  for (const members of memberCounts) {
    const perServer = (server: Server): number | undefined => {
      const puts = samples.filter((s) => s.members === members && s.server === server && putRows.includes(s.row));
      const reps = [...new Set(puts.map((s) => s.rep))];
      return median(reps.flatMap((rep) => cpuPerPutOfRep(puts.filter((s) => s.rep === rep)) ?? []));
    };
    const etcdMs = perServer('etcd');
    const cairnMs = perServer('cairn');
    const ratio = ratioOf(cairnMs, etcdMs);
    const covered = putRows.filter((id) => samples.some((s) => s.members === members && s.row === id));
    if (covered.length === 0) continue;
    cpuPerPut.push({
      members,
      ...(etcdMs !== undefined && { etcdMs }),
      ...(cairnMs !== undefined && { cairnMs }),
      ...(ratio !== undefined && { ratio }),
      rows: covered,
    });
  }
  const outside = samples
    .filter((s) => s.wallSec > 0 && s.result !== undefined)
    .map((s) => Math.max(0, s.machineBusySec - s.serverCpuSec - (s.result!.cpu.userMs + s.result!.cpu.systemMs) / 1000) / s.wallSec);
  const outsideMedian = median(outside);
  return {
    rows: summaries,
    cpuPerPut,
    ...(outsideMedian !== undefined && { outsideLoadCores: { median: outsideMedian, max: Math.max(...outside) } }),
  };
}

/** How the run was made: everything the doc's header says besides the figures. */
export interface RunMeta {
  /** ISO time the run ended. */
  readonly date: string;
  readonly commit: string;
  /** True when core/, plugins/ or adapters/ differed from the commit. */
  readonly dirty: boolean;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly nodeVersion: string;
  readonly etcdVersion: string;
  readonly durationSec: number;
  readonly reps: number;
  readonly conns: number;
  /** The exact command line, environment included. */
  readonly command: string;
  /** Wall time of the whole run, in seconds. */
  readonly elapsedSec: number;
  /** 1-minute load averages seen before each run: median and max. */
  readonly loadAverage?: { readonly median: number; readonly max: number };
  /** What else ran on the machine, in the runner's words (NOTE=...). */
  readonly note?: string;
}

const fixed = (v: number, digits: number): string => v.toFixed(digits);
/** ops/s as whole numbers, latencies with two significant decimals under 10 ms. */
const ops = (v: number | undefined): string => (v === undefined ? 'n/a' : fixed(v, 0));
const ms = (v: number): string => (v >= 100 ? fixed(v, 0) : v >= 10 ? fixed(v, 1) : fixed(v, 2));
const latency = (f: ServerFigures | undefined): string => (f === undefined ? 'n/a' : `${ms(f.p50Ms)} / ${ms(f.p99Ms)}`);
const ratioText = (v: number | undefined): string => (v === undefined ? 'n/a' : fixed(v, 2));

/** The markdown that goes between the markers: header lines, the table, CPU per put, anomalies. */
export function renderCompareSection(summary: CompareSummary, meta: RunMeta): string {
  const lines: string[] = [];
  const day = meta.date.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  lines.push(
    `Generated ${day} by \`${meta.command}\` at commit ${meta.commit}${meta.dirty ? ' with uncommitted changes in core/, plugins/ or adapters/' : ''}; ` +
      `${meta.nproc} × ${meta.cpuModel} (nproc ${meta.nproc}), Node ${meta.nodeVersion}, etcd ${meta.etcdVersion}. ` +
      `${meta.durationSec} s a run, ${meta.reps} repetition${meta.reps === 1 ? '' : 's'} alternating etcd and Cairn (fresh clusters each time), ` +
      `medians shown; load to the leader's client port over up to ${meta.conns} connections. The whole run took ${Math.round(meta.elapsedSec / 60)} min.`,
  );
  const load: string[] = [];
  if (summary.outsideLoadCores !== undefined) {
    load.push(
      `other processes used a median ${fixed(summary.outsideLoadCores.median, 2)} cores (max ${fixed(summary.outsideLoadCores.max, 2)}) of the ${meta.nproc} during the runs`,
    );
  }
  if (meta.loadAverage !== undefined) load.push(`1-minute load average ${fixed(meta.loadAverage.median, 1)} (max ${fixed(meta.loadAverage.max, 1)})`);
  if (load.length > 0 || meta.note !== undefined) {
    lines.push('', `Machine load: ${[...load, ...(meta.note === undefined ? [] : [meta.note])].join('; ')}.`);
  }
  lines.push('', '| workload | members | etcd ops/s | cairn ops/s | ratio | etcd p50/p99 ms | cairn p50/p99 ms |', '|---|---|---|---|---|---|---|');
  for (const r of summary.rows) {
    lines.push(
      `| ${r.label} | ${r.members} | ${ops(r.etcd?.opsPerSec)} | ${ops(r.cairn?.opsPerSec)} | ${ratioText(r.ratio)} | ${latency(r.etcd)} | ${latency(r.cairn)} |`,
    );
  }
  lines.push('', 'ratio = cairn ops/s ÷ etcd ops/s (above 1: cairn is faster).');
  for (const c of summary.cpuPerPut) {
    const value = (v: number | undefined): string => (v === undefined ? 'n/a' : `${fixed(v, 3)} ms`);
    lines.push(
      '',
      `Server CPU per acknowledged put, ${c.members} member${c.members === 1 ? '' : 's'} (utime + stime of every member over the ${c.rows.join(', ')} runs ÷ puts): ` +
        `etcd ${value(c.etcdMs)}, cairn ${value(c.cairnMs)}${c.ratio === undefined ? '' : ` (ratio ${fixed(c.ratio, 2)})`}.`,
    );
  }
  const anomalies: string[] = [];
  for (const r of summary.rows) {
    for (const server of SERVERS) {
      const f = r[server];
      if (f === undefined) anomalies.push(`${r.label}, ${r.members} member(s), ${server}: no run produced a result`);
      else if (f.errors > 0 || f.missingRuns > 0) {
        const what = [
          f.errors > 0 ? `${f.errors} failed calls (${f.errorSamples.join(' | ')})` : '',
          f.missingRuns > 0 ? `${f.missingRuns} runs without a result` : '',
        ];
        anomalies.push(`${r.label}, ${r.members} member(s), ${server}: ${what.filter((w) => w !== '').join('; ')}`);
      }
    }
  }
  if (anomalies.length > 0) lines.push('', 'Errors during the runs:', '', ...anomalies.map((a) => `- ${a}`));
  return lines.join('\n');
}

/**
 * `doc` with what lies between the line `begin` and the line `end` replaced by `content`. The
 * markers stay; everything outside them is kept byte for byte. Missing or repeated markers are an
 * error: the prose around them is someone else's, and guessing where a table goes could clobber it.
 */
export function replaceBetweenMarkers(doc: string, begin: string, end: string, content: string): string {
  const count = (marker: string): number => doc.split(marker).length - 1;
  if (count(begin) !== 1 || count(end) !== 1) throw new Error(`the document must hold "${begin}" and "${end}" once each`);
  const from = doc.indexOf(begin) + begin.length;
  const to = doc.indexOf(end);
  if (to < from) throw new Error(`"${end}" comes before "${begin}"`);
  return `${doc.slice(0, from)}\n${content.trimEnd()}\n${doc.slice(to)}`;
}

export const COMPARE_BEGIN = '<!-- bench:compare begin -->';
export const COMPARE_END = '<!-- bench:compare end -->';
