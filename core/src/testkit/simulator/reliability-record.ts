import type { ReliabilityRecord } from '../reliability-record.js';
import type { SimulationResult } from './simulation.js';

/** One seeded simulator run as a reliability record. */
export interface SimulatorRecord extends ReliabilityRecord {
  readonly suite: 'simulator';
  readonly transport: 'sim';
  readonly virtualMs: number;
  readonly members: number;
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
