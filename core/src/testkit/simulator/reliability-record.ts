import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { SimulationResult } from './simulation.js';

/**
 * One seeded simulator run as a line of the reliability records (docs/reliability.md's generator,
 * test/reliability/report.ts, reads them; the real-process fault suites write the same shape).
 */
export interface SimulatorRecord {
  readonly suite: 'simulator';
  readonly date: string;
  readonly seed: number;
  readonly transport: 'sim';
  /** Wall-clock milliseconds the run took. */
  readonly durationMs: number;
  /** Virtual milliseconds of faults and client traffic (the cluster then settles for 1,500 more). */
  readonly virtualMs: number;
  readonly members: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly operations: number;
  readonly acknowledgedWrites: number;
  readonly indeterminate: number;
  /** The simulator's workload has no locks. */
  readonly lockAcquisitions: 0;
  readonly membershipChanges: number;
  readonly anomalies: number;
  readonly anomalyDetail: readonly string[];
  readonly passed: boolean;
  /** The commit the run was built from ("+dirty" when the tree had changes), when known. */
  readonly commit?: string;
  /** Set when a bug was planted on purpose (such a run is expected to fail). */
  readonly plantedBug?: string;
  readonly command: string;
}

const MEMBERSHIP_FAULTS = new Set(['remove-member', 'add-learner', 'promote-learner']);

export interface RunDescription {
  readonly members: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly command: string;
  readonly plantedBug?: string;
  readonly commit?: string;
  readonly date?: Date;
}

export function simulatorRecord(r: SimulationResult, run: RunDescription): SimulatorRecord {
  // A heal ends a fault rather than injecting one.
  const faults = Object.fromEntries(Object.entries(r.faults).filter(([kind, n]) => n > 0 && kind !== 'heal'));
  const membershipChanges = Object.entries(r.faults)
    .filter(([kind]) => MEMBERSHIP_FAULTS.has(kind))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    suite: 'simulator',
    date: (run.date ?? new Date()).toISOString(),
    seed: r.seed,
    transport: 'sim',
    durationMs: Math.round(run.wallMs),
    virtualMs: run.virtualMs,
    members: run.members,
    faults,
    operations: r.operations,
    acknowledgedWrites: r.acknowledgedWrites,
    indeterminate: r.indeterminate,
    lockAcquisitions: 0,
    membershipChanges,
    anomalies: r.ok ? 0 : 1,
    anomalyDetail: r.ok ? [] : [`${r.property}: ${(r.failure ?? '').split('\n')[0]}`],
    passed: r.ok,
    ...(run.commit === undefined ? {} : { commit: run.commit }),
    ...(run.plantedBug === undefined ? {} : { plantedBug: run.plantedBug }),
    command: run.command,
  };
}

/** Appends one record as a JSON line (synchronously: a run that is interrupted keeps every line written). */
export function appendRecord(path: string, record: SimulatorRecord): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

/**
 * The commit under test: $CAIRN_RELIABILITY_COMMIT when a runner set it, else asked of git
 * ("+dirty" when the work tree has changes); undefined outside a git checkout.
 */
export function commitUnderTest(): string | undefined {
  const fromEnv = process.env['CAIRN_RELIABILITY_COMMIT'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty === '' ? head : `${head}+dirty`;
  } catch {
    return undefined;
  }
}
