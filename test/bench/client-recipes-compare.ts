/**
 * Lock and election figures of @cairn/client beside the etcd3 npm package's, on the same clusters
 * in the same run (started by client-recipes-compare.sh): lock acquire+release latency and rate at
 * 1 and 8 contenders, and election failover after the leading campaigner's process is killed -9.
 * Writes a markdown table (generated) to --out.
 *
 *   node test/dist/bench/client-recipes-compare.js --cluster cairn=127.0.0.1:1,127.0.0.1:2,127.0.0.1:3 \
 *     --cluster etcd=... --duration 5 --rounds 3 --ttl 2 --out docs/client-recipes-bench.md
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, Election, Mutex } from '@cairn/client';
import { Etcd3, EtcdLockFailedError } from 'etcd3';
import type { ElectWorkerConfig } from './client-elect-worker.js';

type Library = ElectWorkerConfig['library'];
const LIBRARIES: readonly Library[] = ['cairn-client', 'etcd3'];

interface Options {
  readonly clusters: { label: string; endpoints: string[] }[];
  readonly durationMs: number;
  readonly rounds: number;
  readonly ttl: number;
  /** etcd3's Lock fails instead of waiting: its contenders retry after this pause. */
  readonly etcd3RetryMs: number;
  readonly out: string | undefined;
  readonly notes: string;
}

interface LockFigures {
  readonly latencies: number[];
  readonly opsPerSec: number;
  readonly errors: number;
  /** etcd3 only: acquire attempts that found the lock taken. */
  readonly retries: number;
}

interface FailoverFigures {
  /** kill -9 of the leading campaigner → the follower campaigner's campaign resolved (its clock). */
  readonly elected: number[];
  /** kill -9 → an observer in the bench process saw the follower's value as leader. */
  readonly observed: number[];
  readonly failures: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function parseOptions(argv: readonly string[]): Options {
  const clusters: Options['clusters'] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--cluster') {
      const [label, list] = value.split('=');
      clusters.push({ label: label!, endpoints: list!.split(',') });
    } else values.set(flag.replace(/^--/, ''), value);
  }
  if (clusters.length === 0) throw new Error('give at least one --cluster label=host:port,host:port,...');
  return {
    clusters,
    durationMs: Number(values.get('duration') ?? '5') * 1000,
    rounds: Number(values.get('rounds') ?? '3'),
    ttl: Number(values.get('ttl') ?? '2'),
    etcd3RetryMs: Number(values.get('etcd3-retry-ms') ?? '10'),
    out: values.get('out'),
    notes: values.get('notes') ?? '',
  };
}

/** `contenders` loops acquiring and releasing one lock for `durationMs`; latency = acquire (waiting included) + release. */
async function lockRun(library: Library, endpoints: string[], contenders: number, options: Options): Promise<LockFigures> {
  const name = `bench-lock-${library}-${contenders}-${Date.now()}`;
  const latencies: number[] = [];
  let errors = 0;
  let retries = 0;
  let end = 0;
  if (library === 'cairn-client') {
    const client = new Client({ endpoints });
    try {
      const sessions = await Promise.all(Array.from({ length: contenders }, () => client.session({ ttl: 30 })));
      end = now() + options.durationMs;
      await Promise.all(
        sessions.map(async (session) => {
          const mutex = new Mutex(session, name);
          while (now() < end) {
            const began = now();
            try {
              const held = await mutex.lock();
              await held.unlock();
              latencies.push(now() - began);
            } catch {
              errors++;
            }
          }
        }),
      );
      await Promise.all(sessions.map((s) => s.close()));
    } finally {
      await client.close();
    }
  } else {
    const client = new Etcd3({ hosts: endpoints.map((e) => `http://${e}`) });
    try {
      end = now() + options.durationMs;
      await Promise.all(
        Array.from({ length: contenders }, async () => {
          while (now() < end) {
            const began = now();
            try {
              for (;;) {
                const lock = client.lock(name).ttl(30);
                try {
                  await lock.acquire();
                } catch (err) {
                  if (!(err instanceof EtcdLockFailedError)) throw err;
                  retries++;
                  await sleep(options.etcd3RetryMs);
                  continue;
                }
                await lock.release();
                break;
              }
              latencies.push(now() - began);
            } catch {
              errors++;
            }
          }
        }),
      );
    } finally {
      client.close();
    }
  }
  return { latencies, opsPerSec: latencies.length / (options.durationMs / 1000), errors, retries };
}

/** A campaigner process (client-elect-worker.js), its output collected. */
class Campaigner {
  private out = '';
  private readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(config: ElectWorkerConfig) {
    this.child = spawn(process.execPath, [join(here, 'client-elect-worker.js'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.out += b.toString()));
    this.exited = new Promise((done) => this.child.once('exit', () => done()));
  }

  async waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.out);
      if (m !== null) return m;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`campaigner never printed ${pattern}: ${this.out.slice(-500)}`);
      await sleep(5);
    }
  }

  /** SIGKILL by PID: a crash, the campaign's lease left to expire. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM by PID: resign and exit (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => void this.kill(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Resolves with the time `value` is first seen leading `name`, observed through `library`. */
async function observeLeader(
  library: Library,
  endpoints: string[],
  name: string,
  value: string,
): Promise<{ seen: Promise<number>; close: () => Promise<void> }> {
  if (library === 'cairn-client') {
    const client = new Client({ endpoints });
    const session = await client.session({ ttl: 30 });
    const election = new Election(session, name);
    let stop = false;
    const seen = (async () => {
      for await (const kv of election.observe()) {
        if (kv.value.toString() === value) return now();
        if (stop) break;
      }
      throw new Error('observation ended');
    })();
    return {
      seen,
      close: async () => {
        stop = true;
        await session.close();
        await client.close();
      },
    };
  }
  const client = new Etcd3({ hosts: endpoints.map((e) => `http://${e}`) });
  const observer = await client.election(name).observe();
  const seen = new Promise<number>((resolve) => observer.on('change', (leader) => leader === value && resolve(now())));
  return {
    seen,
    close: async () => {
      await observer.cancel();
      client.close();
    },
  };
}

async function failoverRounds(library: Library, endpoints: string[], options: Options): Promise<FailoverFigures> {
  const figures: FailoverFigures = { elected: [], observed: [], failures: [] };
  for (let round = 0; round < options.rounds; round++) {
    const name = `bench-elect-${library}-${round}-${Date.now()}`;
    const config = { library, endpoints, name, ttl: options.ttl };
    const leader = new Campaigner({ ...config, value: 'first' });
    let follower: Campaigner | undefined;
    let observer: Awaited<ReturnType<typeof observeLeader>> | undefined;
    try {
      await leader.waitFor(/elected first/, 20_000);
      // The follower starts once the leader leads, so it is surely second in line.
      follower = new Campaigner({ ...config, value: 'second' });
      await follower.waitFor(/campaigning/, 20_000);
      observer = await observeLeader(library, endpoints, name, 'second');
      // Let the follower's campaign reach its wait on the leader's key.
      await sleep(500);
      const killedAt = now();
      await leader.kill();
      const line = await follower.waitFor(/elected second ([\d.]+)/, 30_000);
      figures.elected.push(Number(line[1]) - killedAt);
      figures.observed.push((await Promise.race([observer.seen, sleep(10_000).then(() => Number.NaN)])) - killedAt);
    } catch (err) {
      figures.failures.push((err as Error).message);
    } finally {
      await observer?.close().catch(() => undefined);
      await leader.kill();
      await follower?.stop();
    }
  }
  return figures;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (v: number): string => (Number.isNaN(v) ? 'n/a' : v < 10 ? v.toFixed(2) : v.toFixed(0));
const lockCell = (f: LockFigures): string =>
  `${ms(percentile(f.latencies, 50))} / ${ms(percentile(f.latencies, 99))} ms, ${f.opsPerSec.toFixed(0)}/s${f.errors > 0 ? `, ${f.errors} errors` : ''}${f.retries > 0 ? `, ${f.retries} retries` : ''}`;
const failoverCell = (values: number[], failures: number): string =>
  values.length === 0
    ? `n/a (${failures} failed)`
    : `${ms(percentile(values, 50))} / ${ms(Math.max(...values))} ms${failures > 0 ? ` (${failures} failed)` : ''}`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const { label, endpoints } of options.clusters) {
    for (const library of LIBRARIES) {
      process.stderr.write(`${label} / ${library}: locks…\n`);
      const one = await lockRun(library, endpoints, 1, options);
      const eight = await lockRun(library, endpoints, 8, options);
      process.stderr.write(`${label} / ${library}: election failover…\n`);
      const failover = await failoverRounds(library, endpoints, options);
      failures.push(...failover.failures.map((f) => `${label} / ${library}: ${f}`));
      rows.push([
        label,
        library,
        lockCell(one),
        lockCell(eight),
        failoverCell(failover.elected, failover.failures.length),
        failoverCell(failover.observed, failover.failures.length),
      ]);
    }
  }
  const header = [
    'cluster',
    'library',
    'lock+unlock, 1 contender: p50 / p99, rate',
    'lock+unlock, 8 contenders: p50 / p99, rate',
    'failover: campaign won (median / max)',
    'failover: observer saw it (median / max)',
  ];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const text = `# @cairn/client and the etcd3 package: locks and election failover

Generated by \`test/bench/client-recipes-compare.sh\` on ${new Date().toISOString()} — do not edit by hand.
${options.notes}
Each cluster has 3 members on loopback (one machine); both libraries ran against the same cluster in the same run.
Lock: every contender loops acquire → release on one lock name for ${options.durationMs / 1000} s; latency is acquire (the wait
for other holders included) + release. @cairn/client: \`Mutex\` (clientv3's layout: queue by create revision, wait
on the predecessor's key) over one long-lived session per contender. etcd3 (${'v1.1.2'}): \`client.lock(name).acquire()\`
fails when the key is taken (no queue), so its contenders retry after ${options.etcd3RetryMs} ms; each attempt
grants a new lease and release revokes it (its own design).
Failover: two campaigner processes, lease TTL ${options.ttl} s; the leader's process is killed -9 and the time to the
follower winning (its own clock) and to an observer in the bench process seeing it is measured; ${options.rounds} rounds each.
Failover is set mostly by the lease: the dead leader's key goes when its lease expires, one TTL after its last
renewal (keep-alives go every TTL/3 or so, hence less than the TTL after the kill).

${table}
${failures.length > 0 ? `\nFailed rounds:\n${failures.map((f) => `- ${f.replace(/\n/g, ' ')}`).join('\n')}\n` : ''}`;
  if (options.out !== undefined) await writeFile(options.out, text);
  process.stdout.write(text);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
