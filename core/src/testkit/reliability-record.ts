import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/**
 * One run of a fault suite as a line of the reliability records: the simulator and the
 * real-process fault tests append these, and docs/reliability.md's generator
 * (test/reliability/report.ts) reads them. Counters a suite does not measure are 0.
 */
export interface ReliabilityRecord {
  readonly suite: string;
  readonly date: string;
  readonly seed: number;
  /** How members talked: `tcp`, `nats`, or `sim` (the simulator's memory network). */
  readonly transport: string;
  /** Wall-clock milliseconds of the run's load (the simulator: of the whole run). */
  readonly durationMs: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly operations: number;
  readonly acknowledgedWrites: number;
  readonly indeterminate: number;
  readonly lockAcquisitions: number;
  readonly membershipChanges: number;
  readonly anomalies: number;
  readonly anomalyDetail: readonly string[];
  readonly passed: boolean;
  /** The command line that replays the run. */
  readonly command: string;
  readonly members?: number;
  /** Virtual milliseconds of faults and client traffic (simulator runs). */
  readonly virtualMs?: number;
  /** The commit the run was built from ("+dirty" when the tree had changes), when known. */
  readonly commit?: string;
  /** Set when a bug was planted on purpose: such a run is expected to fail and is not counted with the others. */
  readonly plantedBug?: string;
}

/** Appends one record as a JSON line (synchronously: a run that is interrupted keeps every line written). */
export function appendReliabilityRecord(path: string, record: ReliabilityRecord): void {
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
