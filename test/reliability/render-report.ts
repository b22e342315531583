import type { RunRecord } from './run-record.js';
import type { SuiteEntry } from './suite-catalogue.js';

export interface ReportInput {
  readonly records: readonly RunRecord[];
  /** Where the records came from, as the report should name it. */
  readonly source: string;
  readonly suites: readonly SuiteEntry[];
  /** Is this repository path in the checkout? */
  readonly present: (path: string) => boolean;
}

/** The records of one suite over one transport. */
interface Group {
  readonly suite: string;
  readonly transport: string;
  readonly records: RunRecord[];
}

const GENERATED_BY = 'npm run reliability:report';
const number = (n: number): string => n.toLocaleString('en-US');
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const sum = (records: readonly RunRecord[], pick: (r: RunRecord) => number): number => records.reduce((s, r) => s + pick(r), 0);
const faultTotal = (r: RunRecord): number => Object.values(r.faults).reduce((s, n) => s + n, 0);
const day = (iso: string): string => (Number.isNaN(Date.parse(iso)) ? iso : new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');

function groupRecords(records: readonly RunRecord[], suites: readonly SuiteEntry[]): Group[] {
  const groups = new Map<string, Group>();
  for (const r of records) {
    const key = `${r.suite}\u0000${r.transport}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { suite: r.suite, transport: r.transport, records: [] }));
    g.records.push(r);
  }
  // Catalogue order first, then by name, so the report does not reorder itself from run to run.
  const rank = (suite: string): number => {
    const i = suites.findIndex((s) => s.recordSuite === suite);
    return i < 0 ? suites.length : i;
  };
  return [...groups.values()].sort((a, b) => rank(a.suite) - rank(b.suite) || a.suite.localeCompare(b.suite) || a.transport.localeCompare(b.transport));
}

function dateRange(records: readonly RunRecord[]): string {
  const dates = records.map((r) => r.date).sort();
  const first = day(dates[0]!);
  const last = day(dates[dates.length - 1]!);
  return first === last ? first : `${first} – ${last}`;
}

function commits(records: readonly RunRecord[]): string {
  const seen = [...new Set(records.map((r) => r.commit ?? 'not recorded'))];
  return seen.map((c) => `\`${c}\``).join(', ');
}

function figuresTable(groups: readonly Group[]): string[] {
  const lines = [
    '| Suite | Transport | Runs | Passed | Failed | Faults injected | Operations | Acknowledged writes | Indeterminate | Lock acquisitions | Membership changes | Anomalies | Dates | Commit |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const g of groups) {
    const rs = g.records;
    const passed = rs.filter((r) => r.passed).length;
    lines.push(
      `| ${cell(g.suite)} | ${cell(g.transport)} | ${number(rs.length)} | ${number(passed)} | ${number(rs.length - passed)} | ${number(sum(rs, faultTotal))} | ${number(sum(rs, (r) => r.operations))} | ${number(sum(rs, (r) => r.acknowledgedWrites))} | ${number(sum(rs, (r) => r.indeterminate))} | ${number(sum(rs, (r) => r.lockAcquisitions))} | ${number(sum(rs, (r) => r.membershipChanges))} | ${number(sum(rs, (r) => r.anomalies))} | ${dateRange(rs)} | ${commits(rs)} |`,
    );
  }
  return lines;
}

function faultsTable(groups: readonly Group[]): string[] {
  const kinds = new Map<string, number>();
  for (const g of groups) for (const r of g.records) for (const [k, n] of Object.entries(r.faults)) kinds.set(k, (kinds.get(k) ?? 0) + n);
  if (kinds.size === 0) return ['No faults recorded.'];
  const order = [...kinds.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const header = `| Fault | ${groups.map((g) => `${cell(g.suite)} (${cell(g.transport)})`).join(' | ')} |`;
  const rule = `|---|${groups.map(() => '--:').join('|')}|`;
  const rows = order.map((k) => `| ${cell(k)} | ${groups.map((g) => number(sum(g.records, (r) => r.faults[k] ?? 0))).join(' | ')} |`);
  return [header, rule, ...rows];
}

function failures(records: readonly RunRecord[]): string[] {
  const failed = records.filter((r) => !r.passed || r.anomalies > 0);
  if (failed.length === 0) return ['None: every recorded run passed with no anomaly.'];
  return failed.flatMap((r) => [
    `- **${cell(r.suite)}** (${cell(r.transport)}) seed ${r.seed}, ${day(r.date)}: ${r.anomalyDetail.length > 0 ? r.anomalyDetail.map(cell).join('; ') : 'failed (no detail recorded)'}`,
    `  replay: \`${r.command}\``,
  ]);
}

function plantedBugRuns(records: readonly RunRecord[]): string[] {
  if (records.length === 0) return [];
  const byBug = new Map<string, RunRecord[]>();
  for (const r of records) byBug.set(r.plantedBug!, [...(byBug.get(r.plantedBug!) ?? []), r]);
  const lines = [
    '## Runs with a planted bug',
    '',
    'Runs made with a bug planted on purpose (`--bug NAME`); they show the checks can fail and are not counted above.',
    '',
    '| Planted bug | Runs | Caught (failed) | Properties that failed |',
    '|---|--:|--:|---|',
  ];
  for (const [bug, rs] of [...byBug.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const properties = [...new Set(rs.flatMap((r) => r.anomalyDetail.map((d) => d.split(':')[0]!)))].join(', ');
    lines.push(`| ${cell(bug)} | ${rs.length} | ${rs.filter((r) => !r.passed).length} | ${cell(properties || '–')} |`);
  }
  return [...lines, ''];
}

function catalogue(suites: readonly SuiteEntry[], present: (path: string) => boolean, recorded: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  for (const s of suites) {
    lines.push(`### ${s.title}`, '', s.what, '');
    const files = s.files.map((f) => (present(f) ? `\`${f}\`` : `\`${f}\` (not in this checkout)`));
    lines.push(`Where: ${files.join(', ')}.`, '');
    if (s.recordSuite !== undefined) {
      lines.push(
        recorded.has(s.recordSuite)
          ? `Run records: suite \`${s.recordSuite}\` (figures above).`
          : `Run records: suite \`${s.recordSuite}\`; none in the records yet.`,
        '',
      );
    }
    lines.push('```sh', ...s.commands, '```', '');
  }
  return lines;
}

/** docs/reliability.md from the run records: deterministic for the same records and checkout. */
export function renderReport(input: ReportInput): string {
  const counted = input.records.filter((r) => r.plantedBug === undefined);
  const planted = input.records.filter((r) => r.plantedBug !== undefined);
  const groups = groupRecords(counted, input.suites);
  const recorded = new Set(counted.map((r) => r.suite));
  const missing = input.suites.filter((s) => s.recordSuite !== undefined && !recorded.has(s.recordSuite)).map((s) => `\`${s.recordSuite}\``);
  const lines = [
    '<!-- Generated file: do not edit by hand. Regenerate with `npm run reliability:report`. -->',
    '',
    '# Reliability report',
    '',
    `Generated by \`${GENERATED_BY}\` (test/reliability/report.ts) from the run records in \`${input.source}\`; do not edit it by hand. ` +
      'To run the suites again and regenerate it: `npm run reliability:run` (test/reliability/run.sh: SIM_SEEDS simulator seeds, RUNS real-process runs, RECORDS the record file). ' +
      'Each record is one run: its suite, seed, transport, faults injected by kind, operations, acknowledged writes, anomalies, verdict and the command that replays it.',
    '',
    '## Latest figures',
    '',
    ...(groups.length === 0 ? ['No run records yet.'] : figuresTable(groups)),
    '',
    ...(missing.length === 0 ? [] : [`No records yet for ${missing.join(', ')}: see how to run them below.`, '']),
    "Operations count every client call in a run's history (reads, writes, compare-and-sets); acknowledged writes are the writes and compare-and-sets that were answered; indeterminate ones were left without an answer and may have taken effect (the linearizability checker allows both). An anomaly is any check that failed: a Raft safety property, durability, linearizability, a lost acknowledged write, a lock held twice.",
    '',
    '## Faults injected by kind',
    '',
    ...faultsTable(groups),
    '',
    '## Failed runs',
    '',
    ...failures(counted),
    '',
    ...plantedBugRuns(planted),
    '## What is tested, and how to run it',
    '',
    ...catalogue(input.suites, input.present, recorded),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
