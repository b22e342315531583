import type { ReliabilityRecord } from '@cairn/core/testkit';

/**
 * One run of a fault suite, as the suites append it (one JSON object per line): the simulator
 * (core/src/testkit/simulator/cli.ts) and the real-process fault tests (test/e2e/fault-history.ts).
 */
export type RunRecord = ReliabilityRecord;

export interface ParsedRecords {
  readonly records: RunRecord[];
  /** "file:line: why" for each line that is not a record. */
  readonly rejected: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** Reads JSON lines; a line without suite, date and passed is rejected (and reported), not guessed at. */
export function parseRecords(text: string, source: string): ParsedRecords {
  const records: RunRecord[] = [];
  const rejected: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      rejected.push(`${source}:${i + 1}: not JSON`);
      return;
    }
    if (!isObject(value) || typeof value['suite'] !== 'string' || typeof value['date'] !== 'string' || typeof value['passed'] !== 'boolean') {
      rejected.push(`${source}:${i + 1}: lacks suite, date or passed`);
      return;
    }
    const faults = isObject(value['faults']) ? Object.fromEntries(Object.entries(value['faults']).map(([k, n]) => [k, count(n)])) : {};
    const detail = Array.isArray(value['anomalyDetail']) ? value['anomalyDetail'].filter((d): d is string => typeof d === 'string') : [];
    const text = (key: string): string | undefined => (typeof value[key] === 'string' && value[key] !== '' ? value[key] : undefined);
    const commit = text('commit');
    const plantedBug = text('plantedBug');
    records.push({
      suite: value['suite'],
      date: value['date'],
      seed: count(value['seed']),
      transport: text('transport') ?? 'unknown',
      durationMs: count(value['durationMs']),
      faults,
      operations: count(value['operations']),
      acknowledgedWrites: count(value['acknowledgedWrites']),
      indeterminate: count(value['indeterminate']),
      lockAcquisitions: count(value['lockAcquisitions']),
      membershipChanges: count(value['membershipChanges']),
      anomalies: count(value['anomalies']),
      anomalyDetail: detail,
      passed: value['passed'],
      command: text('command') ?? '',
      ...(commit === undefined ? {} : { commit }),
      ...(typeof value['members'] === 'number' ? { members: value['members'] } : {}),
      ...(plantedBug === undefined ? {} : { plantedBug }),
    });
  });
  return { records, rejected };
}
