import { expect } from 'chai';
import { renderReport } from './render-report.js';
import { parseRecords } from './run-record.js';
import type { SuiteEntry } from './suite-catalogue.js';

const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    suite: 'simulator',
    date: '2026-12-07T18:00:00.000Z',
    seed: 1,
    transport: 'sim',
    durationMs: 10,
    faults: {},
    operations: 0,
    acknowledgedWrites: 0,
    indeterminate: 0,
    lockAcquisitions: 0,
    membershipChanges: 0,
    anomalies: 0,
    anomalyDetail: [],
    passed: true,
    command: 'npm run sim -- --seed 1',
    ...fields,
  });

const suites: SuiteEntry[] = [
  { title: 'Simulator', recordSuite: 'simulator', what: 'Seeds.', files: ['there.ts'], commands: ['npm run sim -- --seeds 10'] },
  { title: 'Partitions', recordSuite: 'partition-faults', what: 'Proxies.', files: ['gone.ts'], commands: ['run.sh'] },
];

describe('reliability report', () => {
  it('reads JSON lines, and rejects (naming the line) what is not a record', () => {
    const text = [line({ seed: 1 }), 'not json', '{"suite":"x"}', '', line({ seed: 2, lockAcquisitions: undefined })].join('\n');
    const { records, rejected } = parseRecords(text, 'r.jsonl');
    expect(records.map((r) => r.seed)).to.deep.equal([1, 2]);
    expect(records[1]!.lockAcquisitions).to.equal(0);
    expect(rejected).to.deep.equal(['r.jsonl:2: not JSON', 'r.jsonl:3: lacks suite, date or passed']);
  });

  it('sums the figures per suite and transport, lists failed runs with their replay, and keeps planted-bug runs apart', () => {
    const text = [
      line({ seed: 1, faults: { crash: 2, partition: 1 }, operations: 100, acknowledgedWrites: 60, membershipChanges: 1, commit: 'abc1234' }),
      line({ seed: 2, faults: { crash: 3 }, operations: 50, acknowledgedWrites: 20 }),
      line({
        seed: 3,
        faults: { partition: 4 },
        operations: 7,
        passed: false,
        anomalies: 1,
        anomalyDetail: ['linearizability: key k0'],
        command: 'npm run sim -- --seed 3',
      }),
      line({ seed: 4, passed: false, anomalies: 1, anomalyDetail: ['durability: lost'], plantedBug: 'ackAfterFailedSync' }),
      line({ suite: 'partition-faults', transport: 'tcp', seed: 9, faults: { 'isolate-leader': 5 }, lockAcquisitions: 12 }),
    ].join('\n');
    const md = renderReport({ records: parseRecords(text, 'r').records, source: 'r.jsonl', suites, present: (p) => p === 'there.ts' });
    expect(md).to.contain('do not edit it by hand').and.to.contain('`npm run reliability:report`');
    // 3 simulator runs (the planted-bug one is not counted): 2 passed, 1 failed, 10 faults, 157 operations.
    expect(md).to.contain('| simulator | sim | 3 | 2 | 1 | 10 | 157 | 80 | 0 | 0 | 1 | 1 |');
    expect(md).to.contain('| partition-faults | tcp | 1 | 1 | 0 | 5 | 0 | 0 | 0 | 12 | 0 | 0 |');
    expect(md).to.contain('`abc1234`, `not recorded`');
    expect(md).to.match(/\| partition \| 5 \| 0 \|/);
    expect(md).to.match(/\| crash \| 5 \| 0 \|/);
    expect(md).to.contain('seed 3').and.to.contain('linearizability: key k0').and.to.contain('replay: `npm run sim -- --seed 3`');
    expect(md).to.contain('| ackAfterFailedSync | 1 | 1 | durability |');
    expect(md).to.contain('`gone.ts` (not in this checkout)').and.not.to.contain('`there.ts` (not');
  });

  it('says so when there are no records, or none of a suite', () => {
    const md = renderReport({ records: [], source: 'r.jsonl', suites, present: () => true });
    expect(md).to.contain('No run records yet.');
    expect(md).to.contain('No records yet for `simulator`, `partition-faults`');
  });
});
