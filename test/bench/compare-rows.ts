/**
 * The rows of `npm run bench:compare` (issue 19's table): what each one runs, in the order it
 * runs against every cluster. The put rows come first so the server CPU they measure is spent on
 * puts alone; the read rows share one prefill of the key space, written before the first of them.
 */

/** `put`: counted in server CPU per put. `read`: needs the key space written. `other`: neither. */
export type RowPhase = 'put' | 'read' | 'other';

export interface CompareRow {
  /** Stable name: the ROWS filter, the results JSON and the table key. */
  readonly id: string;
  /** The table's workload column. */
  readonly label: string;
  readonly phase: RowPhase;
  /** The built script under test/dist/bench that runs it and prints one BenchResult JSON. */
  readonly script: 'cli.js' | 'compare-watch-fanout.js';
  /** Its arguments besides --endpoints, --duration and --json; `{conns}` is the run's connection count. */
  readonly args: readonly string[];
}

const kv = (workload: string, clients: number, extra: readonly string[] = []): readonly string[] => [
  '--workload',
  workload,
  '--clients',
  String(clients),
  ...extra,
];

export const COMPARE_ROWS: readonly CompareRow[] = [
  { id: 'put-1', label: 'put, 1 client', phase: 'put', script: 'cli.js', args: kv('put', 1, ['--conns', '1']) },
  { id: 'put-64', label: 'put, 64 clients', phase: 'put', script: 'cli.js', args: kv('put', 64, ['--conns', '{conns}']) },
  { id: 'put-256', label: 'put, 256 clients', phase: 'put', script: 'cli.js', args: kv('put', 256, ['--conns', '{conns}']) },
  { id: 'txn-64', label: 'txn, 64 clients', phase: 'other', script: 'cli.js', args: kv('txn', 64, ['--conns', '{conns}']) },
  { id: 'range-1', label: 'range linearizable, 1 client', phase: 'read', script: 'cli.js', args: kv('range', 1, ['--conns', '1', '--prefill', '0']) },
  { id: 'watch-1', label: 'watch put→event, 1 client', phase: 'other', script: 'cli.js', args: kv('watch', 1, ['--conns', '1']) },
  {
    id: 'watch-fanout-16x8',
    label: 'watch, 16 writers × 8 watchers (events/s)',
    phase: 'other',
    script: 'compare-watch-fanout.js',
    args: ['--writers', '16', '--watchers', '8', '--conns', '{conns}'],
  },
  { id: 'range-64', label: 'range linearizable, 64 clients', phase: 'read', script: 'cli.js', args: kv('range', 64, ['--conns', '{conns}', '--prefill', '0']) },
  {
    id: 'range-serializable-64',
    label: 'range serializable, 64 clients',
    phase: 'read',
    script: 'cli.js',
    args: kv('range-serializable', 64, ['--conns', '{conns}', '--prefill', '0']),
  },
  {
    id: 'lease-keepalive-64',
    label: 'lease keep-alive, 64 clients',
    phase: 'other',
    script: 'cli.js',
    args: kv('lease-keepalive', 64, ['--conns', '{conns}']),
  },
  { id: 'lock-8', label: 'lock RPC, 8 contenders', phase: 'other', script: 'cli.js', args: kv('lock', 8, ['--conns', '{conns}']) },
];

/**
 * The rows a ROWS filter selects, in catalogue order: a word selects the row of that id and every
 * row whose id begins with the word and a dash (`put` is put-1, put-64 and put-256). An empty
 * filter selects all; a word that selects nothing is an error, so a typo does not run nothing.
 */
export function selectRows(filter: string, rows: readonly CompareRow[] = COMPARE_ROWS): readonly CompareRow[] {
  const words = filter.split(/[\s,]+/).filter((w) => w !== '');
  if (words.length === 0) return rows;
  for (const word of words) {
    if (!rows.some((r) => matches(r.id, word))) throw new Error(`ROWS: "${word}" names no row (rows: ${rows.map((r) => r.id).join(', ')})`);
  }
  return rows.filter((r) => words.some((w) => matches(r.id, w)));
}

const matches = (id: string, word: string): boolean => id === word || id.startsWith(`${word}-`);
