/**
 * A contender of the fenced-counter fault test, run as its own process (node
 * dist/client/mutex-worker.js '<json WorkerConfig>'): its own client on all endpoints, its own
 * session, a loop of lock → fenced read-modify-write → unlock until `untilMs`. Each critical section
 * is printed as one JSON line (`SectionReport`) on stdout; problems as `{"error": ...}` lines.
 */
import { performance } from 'node:perf_hooks';
import { Client, Compare, Mutex, Op, type Session } from '@cairn/client';

export interface WorkerConfig {
  readonly name: string;
  readonly endpoints: string[];
  readonly lockPrefix: string;
  readonly counterKey: string;
  /** Each fenced write also puts `${recordPrefix}${name}-${seq}` (the store's own count of writes). */
  readonly recordPrefix: string;
  readonly untilMs: number;
  readonly ttl: number;
}

export interface SectionReport {
  readonly holder: string;
  readonly record: string;
  readonly token: string;
  readonly start: number;
  readonly end: number;
  /** The fenced txn's answer: 'wrote', 'fenced-out' (token no longer valid), or 'unknown' (the call failed). */
  readonly outcome: 'wrote' | 'fenced-out' | 'unknown';
  readonly read: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

async function run(config: WorkerConfig): Promise<void> {
  const client = new Client({ endpoints: config.endpoints, callTimeoutMs: 5000 });
  let session: Session | undefined;
  let seq = 0;
  while (Date.now() < config.untilMs) {
    try {
      if (session === undefined || session.signal.aborted) session = await client.session({ ttl: config.ttl });
      const mutex = new Mutex(session, config.lockPrefix);
      const handle = await mutex.lock({ timeoutMs: Math.max(1000, config.untilMs - Date.now()) });
      const start = now();
      const record = `${config.recordPrefix}${config.name}-${seq++}`;
      let outcome: SectionReport['outcome'] = 'unknown';
      let read = -1;
      try {
        const current = await client.get(config.counterKey);
        read = current === undefined ? 0 : Number(current.value.toString());
        const answer = await client
          .txn()
          .if(Compare.createRevision(handle.key, '=', handle.fencingToken))
          .then(Op.put(config.counterKey, String(read + 1)), Op.put(record, JSON.stringify({ read, token: String(handle.fencingToken) })))
          .commit();
        outcome = answer.succeeded ? 'wrote' : 'fenced-out';
      } catch (err) {
        say({ error: `fenced write: ${(err as Error).message}` });
      }
      const end = now();
      say({ holder: config.name, record, token: String(handle.fencingToken), start, end, outcome, read } satisfies SectionReport);
      await handle.unlock().catch((err: Error) => say({ error: `unlock: ${err.message}` }));
    } catch (err) {
      say({ error: `lock: ${(err as Error).message}` });
      await sleep(100);
    }
  }
  await session?.close().catch(() => undefined);
  await client.close();
}

run(JSON.parse(process.argv[2]!) as WorkerConfig).then(
  () => process.exit(0),
  (err: Error) => {
    say({ error: `worker failed: ${err.stack ?? err.message}` });
    process.exit(1);
  },
);
