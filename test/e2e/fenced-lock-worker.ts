/**
 * A lock contender of the partition fault test, run as its own process (node
 * dist/e2e/fenced-lock-worker.js '<json LockWorkerConfig>'): its own client and session, a loop of
 * lock → hold a while → fenced read-modify-write of a counter → unlock until `untilMs`. The hold
 * lets a partition catch a holder inside its critical section; the fenced write is sent even when
 * the session is known lost, and a write whose call failed is sent again (up to 4 attempts), so a
 * holder cut off from the majority retries after it lost the lock: fencing itself is tested. Each section is one JSON line
 * (`LockSection`) on stdout; problems are `{"error": ...}` lines.
 */
import { Client, Compare, Mutex, Op, type Session } from '@cairn/client';

export interface LockWorkerConfig {
  readonly name: string;
  readonly endpoints: string[];
  readonly lockPrefix: string;
  readonly counterKey: string;
  /** Each fenced write also puts `${recordPrefix}${name}-${seq}` with the read value and token. */
  readonly recordPrefix: string;
  /** Wall clock (ms since the epoch). */
  readonly untilMs: number;
  readonly ttl: number;
  /** The hold before the fenced write: one in five is drawn from [0, maxHoldMs), the rest are under 300 ms (more hand-overs). */
  readonly maxHoldMs: number;
  readonly seed: number;
}

/** One critical section, times in ms since the epoch (every worker runs on the test's machine). */
export interface LockSection {
  readonly holder: string;
  readonly record: string;
  readonly token: string;
  /** When lock() resolved. */
  readonly granted: number;
  /** When the holder stopped believing it held the lock: the unlock was sent, or the session's lease expired by the client's own clock. */
  readonly released: number;
  /** The session was lost (by the client's clock) before the last attempt of the fenced write was sent. */
  readonly lostBeforeWrite: boolean;
  /** The last attempt's answer: 'wrote', 'fenced-out' (the token no longer owned the lock), or 'unknown' (every call failed). */
  readonly outcome: 'wrote' | 'fenced-out' | 'unknown';
  /** Attempts whose call failed before the answer (any of them may have been applied). */
  readonly failedAttempts: number;
  readonly unlocked: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/** A session and when its holder must consider it gone: the lease's last known client-side expiry, or when it was seen lost. */
class WatchedSession {
  private lastExpiresAt = Number.POSITIVE_INFINITY;
  private lostAt: number | undefined;
  private readonly sampler: NodeJS.Timeout;

  constructor(readonly session: Session) {
    // Sampled often: at a loss by expiry the last alive state's expiresAt is the moment the client gave up.
    this.sampler = setInterval(() => this.sample(), 20);
    this.sample();
    void session.lost.then(() => {
      this.lostAt = Date.now();
      clearInterval(this.sampler);
    });
  }

  /** When the lease ended for this client, or undefined while alive. */
  get endedAt(): number | undefined {
    return this.lostAt === undefined ? undefined : Math.min(this.lostAt, this.lastExpiresAt);
  }

  close(): void {
    clearInterval(this.sampler);
  }

  private sample(): void {
    const state = this.session.state;
    if (state.kind === 'alive') this.lastExpiresAt = state.expiresAt;
  }
}

/** A worker's holds, replayed with its seed (xorshift32). */
function holds(seed: number, max: number): () => number {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  return () => Math.floor(next() * (next() < 0.2 ? max : Math.min(max, 300)));
}

async function run(config: LockWorkerConfig): Promise<void> {
  const client = new Client({ endpoints: config.endpoints, callTimeoutMs: 3000 });
  const hold = holds(config.seed, config.maxHoldMs);
  let watched: WatchedSession | undefined;
  let seq = 0;
  while (Date.now() < config.untilMs) {
    try {
      if (watched === undefined || watched.session.signal.aborted) {
        watched?.close();
        watched = new WatchedSession(await client.session({ ttl: config.ttl }));
      }
      const current = watched;
      const handle = await new Mutex(current.session, config.lockPrefix).lock({ timeoutMs: Math.max(1000, config.untilMs - Date.now()) });
      const granted = Date.now();
      const record = `${config.recordPrefix}${config.name}-${seq++}`;
      await sleep(hold());
      let lostBeforeWrite = false;
      let outcome: LockSection['outcome'] = 'unknown';
      let failedAttempts = 0;
      let read: number | undefined;
      for (let attempt = 0; attempt < 4 && outcome === 'unknown'; attempt++) {
        try {
          if (read === undefined) {
            const value = await client.get(config.counterKey);
            read = value === undefined ? 0 : Number(value.value.toString());
          }
          lostBeforeWrite = current.endedAt !== undefined;
          // The same read and record on a retry: if an earlier attempt was applied and the lock is still held, this one changes nothing.
          const answer = await client
            .txn()
            .if(Compare.createRevision(handle.key, '=', handle.fencingToken))
            .then(Op.put(config.counterKey, String(read + 1)), Op.put(record, JSON.stringify({ read, token: String(handle.fencingToken) })))
            .commit();
          outcome = answer.succeeded ? 'wrote' : 'fenced-out';
        } catch (err) {
          if (read !== undefined) failedAttempts++;
          say({ error: `fenced write: ${(err as Error).message}` });
          await sleep(500);
        }
      }
      const unlockSent = Date.now();
      const unlocked = await handle.unlock().then(
        () => true,
        (err: Error) => {
          say({ error: `unlock: ${err.message}` });
          return false;
        },
      );
      const released = Math.min(unlockSent, current.endedAt ?? unlockSent);
      say({
        holder: config.name,
        record,
        token: String(handle.fencingToken),
        granted,
        released,
        lostBeforeWrite,
        outcome,
        failedAttempts,
        unlocked,
      } satisfies LockSection);
    } catch (err) {
      say({ error: `lock: ${(err as Error).message}` });
      await sleep(100);
    }
  }
  watched?.close();
  await watched?.session.close().catch(() => undefined);
  await client.close();
}

run(JSON.parse(process.argv[2]!) as LockWorkerConfig).then(
  () => process.exit(0),
  (err: Error) => {
    say({ error: `worker failed: ${err.stack ?? err.message}` });
    process.exit(1);
  },
);
