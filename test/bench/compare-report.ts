#!/usr/bin/env node
/**
 * The TypeScript half of `npm run bench:compare` (test/bench/perf-compare.sh does the processes):
 *
 *   compare-report.js rows [--only "put range-1"]
 *     the selected rows, one a line: id, phase, script, arguments (tab-separated), for the shell;
 *   compare-report.js report --samples F --results F --doc F --commit C [--dirty] --etcd-version V
 *       --duration S --reps N --conns N --elapsed S --command TEXT [--note TEXT] [--growth F]
 *     medians, ratios and CPU per put from the runs in F (JSON lines), written as JSON to --results
 *     and as a table between the markers of --doc (created with a title and the markers if absent).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { COMPARE_ROWS, selectRows } from './compare-rows.js';
import {
  COMPARE_BEGIN,
  COMPARE_END,
  median,
  renderCompareSection,
  replaceBetweenMarkers,
  summarizeRuns,
  type CompareSummary,
  type RunFigures,
  type RunMeta,
  type RunSample,
} from './compare-table.js';
import { GROWTH_BEGIN, GROWTH_END, renderGrowthSection, type GrowthSample } from './compare-growth-table.js';

const DOC_SKELETON = `# Performance

The tables below are produced by \`npm run bench:compare\` (\`test/bench/perf-compare.sh\`, described in
\`test/bench/README.md\`), never typed: it starts etcd 3.4 and Cairn side by side on loopback, one
cluster at a time, runs every workload against each in alternating repetitions and rewrites what
lies between the marker comments below; the runs behind them are kept in
\`docs/performance-results.json\`. Regenerate with \`npm run bench:compare\` (a short run:
\`DURATION=3 REPS=3 npm run bench:compare\`; \`GROWTH=1\` adds the large-store table). Edit only
outside the markers.

${COMPARE_BEGIN}
${COMPARE_END}

${GROWTH_BEGIN}
${GROWTH_END}
`;

/** docs/performance-results.json: the table's figures, the runs behind them, and the large-store part's. */
interface ResultsFile {
  readonly meta?: RunMeta;
  readonly summary?: CompareSummary;
  readonly samples?: readonly RunSample[];
  readonly growthMeta?: RunMeta;
  readonly growth?: readonly GrowthSample[];
}

/** One JSON line of the shell's samples file: a run, with the generator's output as printed. */
interface SampleLine extends Omit<RunSample, 'result'> {
  readonly result: RunFigures | null;
}

function readSamples(file: string): RunSample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const { result, ...rest } = JSON.parse(line) as SampleLine;
      // Keep only the figures the table and a re-derivation need, not the generator's settings.
      const figures: RunFigures | undefined =
        result === null || typeof result.opsPerSec !== 'number'
          ? undefined
          : {
              ops: result.ops,
              errors: result.errors,
              errorSamples: result.errorSamples,
              opsPerSec: result.opsPerSec,
              latencyMs: result.latencyMs,
              cpu: { userMs: result.cpu.userMs, systemMs: result.cpu.systemMs },
            };
      return { ...rest, ...(figures && { result: figures }) };
    });
}

function printRows(only: string): void {
  for (const row of selectRows(only)) console.log([row.id, row.phase, row.script, row.args.join(' ')].join('\t'));
}

function report(argv: readonly string[]): void {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      samples: { type: 'string' },
      results: { type: 'string' },
      doc: { type: 'string' },
      commit: { type: 'string' },
      dirty: { type: 'boolean' },
      'etcd-version': { type: 'string' },
      duration: { type: 'string' },
      reps: { type: 'string' },
      conns: { type: 'string' },
      elapsed: { type: 'string' },
      command: { type: 'string' },
      note: { type: 'string' },
      growth: { type: 'string' },
    },
  });
  const required = (name: keyof typeof values): string => {
    const v = values[name];
    if (typeof v !== 'string' || v === '') throw new Error(`report: --${name} is required`);
    return v;
  };
  const samples = readSamples(required('samples'));
  const growth: GrowthSample[] = values.growth === undefined ? [] : (JSON.parse(readFileSync(values.growth, 'utf8')) as GrowthSample[]);
  const loads = samples.flatMap((s) => (s.loadAverage1 === undefined ? [] : [s.loadAverage1]));
  const loadMedian = median(loads);
  const meta: RunMeta = {
    date: new Date().toISOString(),
    commit: required('commit'),
    dirty: values.dirty ?? false,
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    nodeVersion: process.version,
    etcdVersion: required('etcd-version'),
    durationSec: Number(required('duration')),
    reps: Number(required('reps')),
    conns: Number(required('conns')),
    command: required('command'),
    elapsedSec: Number(required('elapsed')),
    ...(loadMedian !== undefined && { loadAverage: { median: loadMedian, max: Math.max(...loads) } }),
    ...(values.note !== undefined && values.note !== '' && { note: values.note }),
  };
  const summary = summarizeRuns(samples, COMPARE_ROWS);
  // A run of one part (GROWTH_ONLY, or no GROWTH) keeps the other part's figures, as the doc does.
  const resultsFile = required('results');
  const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Partial<ResultsFile>) : {};
  const results: ResultsFile = {
    ...(samples.length > 0 ? { meta, summary, samples } : { meta: previous.meta, summary: previous.summary, samples: previous.samples }),
    ...(growth.length > 0 ? { growthMeta: meta, growth } : { growthMeta: previous.growthMeta, growth: previous.growth }),
  };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const docFile = required('doc');
  let doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : DOC_SKELETON;
  if (samples.length > 0) doc = replaceBetweenMarkers(doc, COMPARE_BEGIN, COMPARE_END, renderCompareSection(summary, meta));
  if (growth.length > 0) doc = replaceBetweenMarkers(doc, GROWTH_BEGIN, GROWTH_END, renderGrowthSection(growth, meta));
  writeFileSync(docFile, doc);
}

function main(argv: readonly string[]): void {
  const [command, ...rest] = argv;
  if (command === 'rows') {
    const { values } = parseArgs({ args: rest, strict: true, options: { only: { type: 'string' } } });
    printRows(values.only ?? '');
  } else if (command === 'report') {
    report(rest);
  } else {
    throw new Error('usage: compare-report.js rows [--only IDS] | report --samples F --results F --doc F ...');
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`compare-report: ${(err as Error).message}`);
  process.exitCode = 1;
}
