import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@cairn/client';
import type { LockSection, LockWorkerConfig } from './fenced-lock-worker.js';

/*
 * The lock part of a fault run: contenders (fenced-lock-worker.ts, one process each) loop
 * lock → hold → fenced read-modify-write of a counter → unlock, most through one member only, so
 * a partition cuts a holder off from the majority. The store is then checked: every fenced write
 * was made while its writer held the lock, no update was lost or doubled.
 */

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'fenced-lock-worker.js');

export interface LockKeys {
  readonly lockPrefix: string;
  readonly counterKey: string;
  readonly recordPrefix: string;
}

interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out: string;
  err: string;
}

/** Lock contenders running as their own processes, stopped by PID. */
export class LockWorkers {
  private constructor(private readonly workers: WorkerProcess[]) {}

  /** One contender per entry of `endpointsPerWorker`, each using only those endpoints, until `untilMs` (wall clock). */
  static start(
    keys: LockKeys,
    endpointsPerWorker: readonly string[][],
    options: { untilMs: number; ttl: number; maxHoldMs: number; seed: number },
  ): LockWorkers {
    return new LockWorkers(
      endpointsPerWorker.map((endpoints, i) => {
        const config: LockWorkerConfig = { ...keys, ...options, seed: options.seed + i, name: `w${i + 1}`, endpoints };
        const child = spawn(process.execPath, [WORKER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
        const worker: WorkerProcess = {
          name: config.name,
          child,
          exited: new Promise((done) => child.once('exit', (code) => done(code))),
          out: '',
          err: '',
        };
        child.stdout?.on('data', (b: Buffer) => (worker.out += b.toString()));
        child.stderr?.on('data', (b: Buffer) => (worker.err += b.toString()));
        return worker;
      }),
    );
  }

  /** Wait up to `timeoutMs` for the workers to end by themselves, then SIGKILL the rest by PID. Returns their exit codes. */
  async finish(timeoutMs: number): Promise<(number | null)[]> {
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const codes = await Promise.all(this.workers.map((w) => w.exited));
    clearTimeout(timer);
    return codes;
  }

  kill(): void {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }

  private lines(): (LockSection | { error: string })[] {
    return this.workers.flatMap((w) =>
      w.out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LockSection | { error: string }),
    );
  }

  /** Every critical section the workers reported (one per lock acquisition). */
  sections(): LockSection[] {
    return this.lines().filter((l): l is LockSection => 'holder' in l);
  }

  errors(): string[] {
    return this.lines()
      .filter((l): l is { error: string } => 'error' in l)
      .map((l) => l.error);
  }

  /** Everything the workers wrote, for the evidence. */
  log(): string {
    return this.workers.map((w) => `--- ${w.name} (exit ${String(w.child.exitCode ?? w.child.signalCode)})\n${w.out}${w.err}`).join('\n');
  }
}

export interface FencedCounterVerdict {
  /** Fenced writes in the store. */
  readonly stored: number;
  readonly counter: number;
  readonly problems: string[];
}

/**
 * Checks the store after the run (`client` reads through the healed cluster):
 * - in revision order the fenced writes read 0, 1, 2, … and the counter ends at their number
 *   (no lost update, no double increment, never backwards);
 * - at the revision of each fenced write its writer's key had the lowest create revision under the
 *   lock prefix: the writer held the lock then (a holder cut off from the majority, whose lease
 *   expired, had its writes fenced out, and two holders' writes never interleave);
 * - fencing tokens never go backwards in revision order;
 * - every write a worker saw acknowledged is stored, none it saw fenced out (at its only attempt) is;
 * - a holder stops believing it holds the lock (unlock sent, or its lease expired by its own
 *   clock: a holder cut off from the majority) before the next holder's lock() resolves.
 * Wall-clock overlap of sections is not checked: under a partition a holder may learn late that
 * its write committed (its member was cut off after the commit), so only revisions order writes.
 */
export async function checkFencedCounter(client: Client, keys: LockKeys, sections: readonly LockSection[]): Promise<FencedCounterVerdict> {
  const problems: string[] = [];
  const records = (await client.range(keys.recordPrefix, { prefix: true })).kvs;
  const counterKv = await client.get(keys.counterKey);
  const counter = counterKv === undefined ? 0 : Number(counterKv.value.toString());
  const byRevision = [...records].sort((a, b) => (a.modRevision < b.modRevision ? -1 : 1));
  let lastToken = 0n;
  for (const [i, kv] of byRevision.entries()) {
    const { read, token } = JSON.parse(kv.value.toString()) as { read: number; token: string };
    if (read !== i) problems.push(`fenced write #${i} (${kv.key.toString()} at revision ${kv.modRevision}) read the counter as ${read}, expected ${i}`);
    const locks = (await client.range(`${keys.lockPrefix}/`, { prefix: true, revision: kv.modRevision })).kvs;
    const owner = locks.reduce<bigint | undefined>((min, k) => (min === undefined || k.createRevision < min ? k.createRevision : min), undefined);
    if (owner?.toString() !== token)
      problems.push(
        `${kv.key.toString()} was written at revision ${kv.modRevision} with token ${token} while the lock's owner key had create revision ${String(owner)}`,
      );
    if (BigInt(token) < lastToken) problems.push(`fencing token went backwards at revision ${kv.modRevision}: ${token} after ${lastToken}`);
    lastToken = BigInt(token);
    if (problems.length > 20) break;
  }
  if (counter !== records.length) problems.push(`the counter is ${counter}, but ${records.length} fenced writes are stored`);

  const stored = new Set(records.map((kv) => kv.key.toString()));
  for (const s of sections) {
    if (s.outcome === 'wrote' && !stored.has(s.record)) problems.push(`acknowledged fenced write ${s.record} (token ${s.token}) is not in the store`);
    if (s.outcome === 'fenced-out' && s.failedAttempts === 0 && stored.has(s.record))
      problems.push(`fenced write ${s.record} was answered 'fenced out' but is in the store`);
  }
  problems.push(...handOverProblems(sections));
  return { stored: records.length, counter, problems };
}

/**
 * The next holder's grant never comes before the previous holder let go by its own account. A
 * holder whose unlock failed keeps its key and may be granted it again (the same token): a token's
 * last section says when that token was let go.
 */
function handOverProblems(sections: readonly LockSection[]): string[] {
  const byToken = new Map<bigint, LockSection[]>();
  for (const s of sections) byToken.set(BigInt(s.token), [...(byToken.get(BigInt(s.token)) ?? []), s]);
  const tokens = [...byToken.keys()].sort((a, b) => (a < b ? -1 : 1));
  const problems: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const before = byToken.get(tokens[i - 1]!)!.sort((a, b) => a.granted - b.granted);
    const after = byToken.get(tokens[i]!)!.sort((a, b) => a.granted - b.granted)[0]!;
    const last = before[before.length - 1]!;
    if (after.granted < last.released)
      problems.push(
        `${after.holder}@${after.token} was granted ${last.released - after.granted} ms before ${last.holder}@${last.token} let go (${last.unlocked ? 'unlock sent' : 'unlock failed; lease expiry or unlock'})`,
      );
  }
  return problems;
}
