import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { analyseFsyncOrdering, FSYNC_TRACE_SYSCALLS, type FsyncOrderingAnalysis } from './fsync-ordering-rule.js';
import { moduleHref, removeDirectory, temporaryDirectory } from './disk-store-module.js';
import { operationTag } from './log-workload.js';
import { stableStateTag } from './stable-workload.js';
import { runStorageChild } from './storage-child-process.js';
import type { WorkloadTask } from './storage-child-task.js';
import { parseStraceOutput } from './strace-trace.js';
import type { DiskStoreTarget } from './store-fixture.js';

export interface FsyncOrderingOptions {
  /** Operations the traced child runs (default 25 appends or saves). */
  readonly operations?: number;
  readonly seed?: number;
}

/** The strace binary: /usr/bin/strace (Debian's package) or the first on PATH; undefined when there is none. */
export function findStrace(): string | undefined {
  const candidates = [
    '/usr/bin/strace',
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((d) => d !== '')
      .map((d) => join(d, 'strace')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

export const STRACE_MISSING = 'skipped: strace is missing (apt-get install strace)';

/**
 * Runs the seeded workload in a child under `strace -f -y` and applies FsyncOrderingRule to the
 * trace: each acknowledgement on stdout must come after its data was written and made durable.
 * Rejects listing the violations; rejects with STRACE_MISSING's text when there is no strace.
 */
async function traceAndAnalyse(
  target: DiskStoreTarget,
  task: WorkloadTask['task'],
  options: FsyncOrderingOptions,
  tagOf: (seed: number, n: number) => string,
): Promise<FsyncOrderingAnalysis> {
  const strace = findStrace();
  if (strace === undefined) throw new Error(STRACE_MISSING);
  const seed = options.seed ?? 1;
  const operations = options.operations ?? 25;
  const directory = await temporaryDirectory('fsync');
  const traceDirectory = await temporaryDirectory('trace');
  const traceFile = join(traceDirectory, 'strace.txt');
  try {
    const child = await runStorageChild(
      { task, module: moduleHref(target.module), directory, seed, operations, shape: 'trace', afterLast: 'close' },
      { strace: { binary: strace, traceFile, syscalls: FSYNC_TRACE_SYSCALLS } },
    );
    const analysis = analyseFsyncOrdering(parseStraceOutput(await readFile(traceFile, 'utf8')), {
      directory,
      cwd: process.cwd(),
      tagOf: (n) => tagOf(seed, n),
    });
    const problems: string[] = [...analysis.blind.map((b) => `the child uses io_uring, whose I/O strace cannot see (${b})`)];
    if (analysis.acks.length !== child.acks.length) {
      problems.push(`the trace shows ${analysis.acks.length} ack lines written to stdout, the child printed ${child.acks.length}`);
    }
    problems.push(...analysis.violations.map((v) => v.problem));
    if (problems.length > 0) {
      const shown = problems.slice(0, 8);
      throw new Error(
        `fsync ordering: ${problems.length} problem(s) in ${operations} acknowledged operations:\n  ${shown.join('\n  ')}${problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : ''}`,
      );
    }
    return analysis;
  } finally {
    await removeDirectory(directory);
    await removeDirectory(traceDirectory);
  }
}

/** fsync ordering of LogStore appends (and the other operations of the workload). */
export function checkLogStoreFsyncOrdering(target: DiskStoreTarget, options: FsyncOrderingOptions = {}): Promise<FsyncOrderingAnalysis> {
  return traceAndAnalyse(target, 'log-workload', options, operationTag);
}

/** fsync ordering of StableStore saves. */
export function checkStableStoreFsyncOrdering(target: DiskStoreTarget, options: FsyncOrderingOptions = {}): Promise<FsyncOrderingAnalysis> {
  return traceAndAnalyse(target, 'stable-workload', options, stableStateTag);
}
