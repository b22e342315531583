import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { etcdServiceDefinition } from '@cairn/api-grpc';
import {
  checkLinearizable,
  SeededRandom,
  type HistoryOperation,
  type LinearizabilityResult,
  type RegisterInput,
  type RegisterOutput,
} from '@cairn/core/testkit';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { natsPeerTransport, NatsServers, skipWithoutNatsServer, type NatsServerProcess } from './nats-servers.js';

const SEED = Number(process.env['FAULT_SEED'] ?? randomInt(1, 2 ** 31));
/** How members reach each other: `tcp` (peer ports) and `nats` (one nats-server, which the nemesis also restarts). */
type FaultTransport = 'tcp' | 'nats';
const TRANSPORTS = (process.env['FAULT_TRANSPORT'] ?? 'tcp,nats').split(',').filter((t): t is FaultTransport => t === 'tcp' || t === 'nats');
/** Load time; the CI defaults keep each run well under 90 s (the NATS run is the shorter second opinion). */
const DURATION_MS: Record<FaultTransport, number> = {
  tcp: Number(process.env['FAULT_DURATION_MS'] ?? 25_000),
  nats: Number(process.env['FAULT_DURATION_MS'] ?? 15_000),
};
const CLIENTS = 6;
const KEYS = ['faults/a', 'faults/b', 'faults/c'] as const;
/** Per call: long enough to ride out one election (500 ms timeout), short enough that a paused member does not stall a client. */
const CALL_DEADLINE_MS = 2_000;
/** Below this many acknowledged writes the history proves too little. */
const MIN_ACKNOWLEDGED_WRITES = 50;
const FINDINGS_DIR = '/tmp/fault-findings';

type KvMethod = 'Put' | 'Range' | 'Txn';
type Unary = (
  request: object,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: Record<string, unknown>) => void,
) => void;

/**
 * The etcd KV service over plain gRPC with a deadline on every call (RawEtcdClient has none, and a
 * call to a SIGSTOPped member would otherwise wait forever). Reconnects fast, so a restarted
 * member gets its clients back within the run instead of after grpc-js's 1 s–120 s backoff.
 */
class DeadlineKvClient {
  private readonly kv: Client;

  constructor(readonly endpoint: string) {
    const Kv = makeGenericClientConstructor(etcdServiceDefinition('KV'), 'KV');
    this.kv = new Kv(endpoint, credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.min_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
    });
  }

  call(method: KvMethod, request: object): Promise<Record<string, unknown>> {
    const kv = this.kv as unknown as Record<KvMethod, Unary>;
    return new Promise((resolve, reject) => {
      kv[method].call(kv, request, new Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (err, response) =>
        err !== null ? reject(err) : resolve(response),
      );
    });
  }

  close(): void {
    this.kv.close();
  }
}

/** The request that carries out one register operation, and how to read the register's answer from the response. */
function request(key: string, input: RegisterInput): { method: KvMethod; body: object; output: (r: Record<string, unknown>) => RegisterOutput } {
  const k = Buffer.from(key);
  switch (input.kind) {
    case 'read':
      // serializable: false (the default) is a linearizable read through ReadIndex.
      return {
        method: 'Range',
        body: { key: k },
        output: (r) => {
          const kvs = r['kvs'] as { value: Buffer }[];
          return { kind: 'read', value: kvs.length === 0 ? null : kvs[0]!.value.toString() };
        },
      };
    case 'write':
      return { method: 'Put', body: { key: k, value: Buffer.from(input.value) }, output: () => ({ kind: 'write' }) };
    case 'cas': {
      // Absent is version == 0 (etcd's CompareTarget VERSION = 0); present is value == expected (VALUE = 3). EQUAL = 0.
      const compare =
        input.expected === null ? { key: k, result: 0, target: 0, version: '0' } : { key: k, result: 0, target: 3, value: Buffer.from(input.expected) };
      return {
        method: 'Txn',
        body: { compare: [compare], success: [{ request_put: { key: k, value: Buffer.from(input.value) } }], failure: [] },
        output: (r) => ({ kind: 'cas', ok: r['succeeded'] === true }),
      };
    }
  }
}

/**
 * grpc-js fails a call with this, without sending it, when the channel has no connection (the
 * member is down): such a write provably had no effect. Every other write error may have applied.
 */
function neverSent(err: ServiceError): boolean {
  return err.code === status.UNAVAILABLE && err.details.startsWith('No connection established');
}

interface RunStats {
  ok: number;
  indeterminate: number;
  droppedReads: number;
  droppedUnsent: number;
  acknowledgedWrites: number;
  readonly errors: Map<string, number>;
}

/** Runs register operations against one member and records each in the shared history. */
class HistoryRecorder {
  readonly history: HistoryOperation[] = [];
  readonly stats: RunStats = { ok: 0, indeterminate: 0, droppedReads: 0, droppedUnsent: 0, acknowledgedWrites: 0, errors: new Map() };

  /** The answer, or undefined when the call failed (recorded as indeterminate, or left out when that is safe). */
  async run(client: DeadlineKvClient, id: number, key: string, input: RegisterInput): Promise<RegisterOutput | undefined> {
    const { method, body, output } = request(key, input);
    const call = performance.now();
    let response: Record<string, unknown>;
    try {
      response = await client.call(method, body);
    } catch (e) {
      const err = e as ServiceError;
      const reason = `${status[err.code] ?? err.code}: ${String(err.details)
        .replace(/\d+(\.\d+)?/g, 'N')
        .slice(0, 70)}`;
      this.stats.errors.set(reason, (this.stats.errors.get(reason) ?? 0) + 1);
      if (input.kind === 'read') {
        this.stats.droppedReads++; // a read changes nothing: without its answer it constrains nothing
      } else if (neverSent(err)) {
        this.stats.droppedUnsent++;
      } else {
        this.history.push({ client: id, key, input, call });
        this.stats.indeterminate++;
      }
      return undefined;
    }
    const out = output(response);
    this.history.push({ client: id, key, input, call, return: performance.now(), output: out });
    this.stats.ok++;
    if (out.kind === 'write' || (out.kind === 'cas' && out.ok)) this.stats.acknowledgedWrites++;
    return out;
  }
}

/** A client's loop: random reads, puts of unique values, and CAS from the last value it saw, until `until`. */
async function clientLoop(recorder: HistoryRecorder, client: DeadlineKvClient, id: number, random: SeededRandom, until: number): Promise<void> {
  const lastSeen = new Map<string, string | null>();
  for (let n = 0; performance.now() < until; n++) {
    const key = random.pick(KEYS);
    const dice = random.next();
    const value = `c${id}-${n}`;
    const input: RegisterInput =
      dice < 0.4 ? { kind: 'read' } : dice < 0.7 ? { kind: 'write', value } : { kind: 'cas', expected: lastSeen.get(key) ?? null, value };
    const out = await recorder.run(client, id, key, input);
    if (out === undefined) {
      await sleep(random.int(50, 150)); // the member is down or electing: do not spin on it
      continue;
    }
    if (out.kind === 'read') lastSeen.set(key, out.value);
    else if (input.kind !== 'read' && (out.kind === 'write' || out.ok)) lastSeen.set(key, input.value);
  }
}

interface FaultLog {
  readonly lines: string[];
  injected: number;
  /** Members that exited, or failed to start again, when the nemesis had not killed them. */
  readonly crashes: string[];
}

/**
 * One fault at a time, chosen by `random`: SIGKILL and restart, or SIGSTOP and SIGCONT, of a
 * random member or of the current leader; over NATS also SIGKILL and restart of the nats-server
 * every member goes through. Never more than one member down, so a quorum remains except while a
 * restarted member catches up (or while the nats-server is down: then no one hears anyone).
 */
async function nemesis(
  cluster: ProcessCluster,
  random: SeededRandom,
  until: number,
  faults: FaultLog,
  aborted: () => boolean,
  t0: number,
  natsServer?: NatsServerProcess,
): Promise<void> {
  const note = (line: string): void => {
    faults.lines.push(`${((performance.now() - t0) / 1000).toFixed(2)}s ${line}`);
  };
  while (performance.now() < until && !aborted()) {
    await sleep(random.int(500, 2_000));
    await restartCrashed(cluster, faults, note);
    if (performance.now() >= until || aborted()) break;
    // Drawn only over NATS, so a TCP seed replays as it always did.
    if (natsServer !== undefined && random.chance(0.25)) {
      const downMs = random.int(200, 1_500);
      faults.injected++;
      note(`SIGKILL the nats-server, restart after ${downMs} ms`);
      await natsServer.kill();
      await sleep(downMs);
      await restartNatsServer(natsServer, faults, note);
      continue;
    }
    const kill = random.chance(0.5);
    const atLeader = random.chance(0.4);
    const downMs = random.int(300, 2_000);
    let target = random.pick(cluster.members);
    if (atLeader) {
      try {
        target = await cluster.leader(2_000);
      } catch {
        note('no leader found; faulting a random member instead');
      }
    }
    if (aborted()) break;
    faults.injected++;
    const who = `${target.spec.name}${atLeader ? ' (leader)' : ''}`;
    if (kill) {
      note(`SIGKILL ${who}, restart after ${downMs} ms`);
      await target.kill();
      await sleep(downMs);
      if (aborted()) break;
      await restart(target, faults, note);
    } else {
      note(`SIGSTOP ${who}, SIGCONT after ${downMs} ms`);
      target.pause();
      await sleep(downMs);
      target.resume();
    }
  }
}

/** A member found not running that the nemesis did not kill has crashed: note it and bring it back. */
async function restartCrashed(cluster: ProcessCluster, faults: FaultLog, note: (line: string) => void): Promise<void> {
  for (const m of cluster.members) {
    if (m.running) continue;
    faults.crashes.push(`${m.spec.name} exited by itself`);
    note(`CRASH: ${m.spec.name} is not running; starting it again`);
    await restart(m, faults, note);
  }
}

async function restartNatsServer(server: NatsServerProcess, faults: FaultLog, note: (line: string) => void): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    faults.crashes.push(`the nats-server did not start again: ${(err as Error).message.split('\n')[0]}`);
    note('CRASH: the nats-server did not start again');
  }
}

async function restart(m: MemberProcess, faults: FaultLog, note: (line: string) => void): Promise<void> {
  try {
    await m.start();
  } catch (err) {
    faults.crashes.push(`${m.spec.name} did not start again: ${(err as Error).message.split('\n')[0]}`);
    note(`CRASH: ${m.spec.name} did not start again`);
  }
}

/** Seed, reason, the failing key's operations, the whole history and every member's output, for a replay. */
async function saveFindings(
  reason: string,
  cluster: ProcessCluster,
  recorder: HistoryRecorder,
  faults: FaultLog,
  verdict: LinearizabilityResult | undefined,
  transport: FaultTransport,
  natsServer: NatsServerProcess | undefined,
): Promise<string> {
  const dir = join(FINDINGS_DIR, `seed-${SEED}-${transport}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'summary.txt'),
    [
      `reason: ${reason}`,
      `seed: ${SEED} (replay: FAULT_SEED=${SEED} FAULT_DURATION_MS=${DURATION_MS[transport]} FAULT_TRANSPORT=${transport})`,
      `verdict: ${JSON.stringify({ ok: verdict?.ok, key: verdict?.key })}`,
      `crashes: ${faults.crashes.join('; ') || 'none'}`,
      'faults:',
      ...faults.lines,
      '',
    ].join('\n'),
  );
  if (verdict?.detail !== undefined)
    await writeFile(join(dir, `detail-${verdict.key ?? 'key'}`.replace(/\//g, '_') + '.txt'), verdict.detail.join('\n') + '\n');
  await writeFile(join(dir, 'history.json'), JSON.stringify(recorder.history, null, 1));
  for (const m of cluster.members) await writeFile(join(dir, `${m.spec.name}.log`), m.log());
  if (natsServer !== undefined) await writeFile(join(dir, 'nats-server.log'), natsServer.log());
  return dir;
}

/** The fault run over one transport (FAULT_TRANSPORT=tcp,nats chooses which run). */
function faultRun(transport: FaultTransport): void {
  const durationMs = DURATION_MS[transport];
  const title =
    transport === 'tcp'
      ? 'a 3-member cairn cluster under SIGKILL and SIGSTOP faults'
      : 'a 3-member cairn cluster over NATS under SIGKILL and SIGSTOP faults and nats-server restarts';
  describe(title, function () {
    this.timeout(durationMs + 120_000);
    let dir: string | undefined;
    let nats: NatsServers | undefined;
    let cluster: ProcessCluster | undefined;
    const clients: DeadlineKvClient[] = [];
    let aborted = false;
    let running: Promise<unknown> = Promise.resolve();

    before(async function () {
      skipWithoutEtcdctl(this, 'the nemesis finds the leader with it');
      if (transport === 'nats') skipWithoutNatsServer(this);
      dir = await mkdtemp(join(tmpdir(), `cairn-faults-${transport}-`));
    });

    after(async () => {
      // Let the nemesis and clients finish their current step first, so none restarts a member after the stop.
      aborted = true;
      await Promise.allSettled([running]);
      for (const c of clients) c.close();
      await cluster?.stop();
      await nats?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('keeps the history of puts, linearizable reads and CAS txns linearizable', async () => {
      console.log(`      fault seed ${SEED} (replay with FAULT_SEED=${SEED} FAULT_TRANSPORT=${transport}), load ${durationMs} ms`);
      const random = new SeededRandom(SEED);
      if (transport === 'nats') nats = await NatsServers.start(join(dir!, 'nats'));
      const natsServer = nats?.servers[0];
      cluster = await ProcessCluster.start('cairn', dir!, 3, nats === undefined ? {} : { transport: natsPeerTransport(() => nats!.urls) });
      await cluster.leader();

      const recorder = new HistoryRecorder();
      const faults: FaultLog = { lines: [], injected: 0, crashes: [] };
      const t0 = performance.now();
      const until = t0 + durationMs;
      for (let i = 0; i < CLIENTS; i++) clients.push(new DeadlineKvClient(cluster.members[i % cluster.members.length]!.endpoint));
      const load = clients.map((c, i) => clientLoop(recorder, c, i, random.fork(), until));
      const work = Promise.all([nemesis(cluster, random.fork(), until, faults, () => aborted, t0, natsServer), ...load]);
      running = work;
      await work;

      // Heal: everything resumed and running, a leader, then one more linearizable read of each key.
      if (natsServer !== undefined && !natsServer.running) await restartNatsServer(natsServer, faults, (line) => faults.lines.push(`end ${line}`));
      for (const m of cluster.members) m.resume();
      await restartCrashed(cluster, faults, (line) => faults.lines.push(`end ${line}`));
      const leader = await cluster.leader(30_000);
      const finalClient = new DeadlineKvClient(leader.endpoint);
      clients.push(finalClient);
      const finalReads: (RegisterOutput | undefined)[] = [];
      for (const key of KEYS) {
        let out: RegisterOutput | undefined;
        for (let attempt = 0; out === undefined && attempt < 50; attempt++) {
          out = await recorder.run(finalClient, CLIENTS, key, { kind: 'read' });
          if (out === undefined) await sleep(200);
        }
        finalReads.push(out);
      }

      const checkStart = performance.now();
      const verdict = checkLinearizable(recorder.history);
      const s = recorder.stats;
      const errors = [...s.errors]
        .sort((a, b) => b[1] - a[1])
        .map(([e, n]) => `${n}× ${e}`)
        .join('; ');
      console.log(`      ${faults.lines.join('\n      ')}`);
      console.log(
        `      seed ${SEED}: ${s.ok} ops ok (${s.acknowledgedWrites} acknowledged writes), ${s.indeterminate} indeterminate, ` +
          `${s.droppedReads} failed reads and ${s.droppedUnsent} unsent writes left out; ${faults.injected} faults injected; ` +
          `checker ${Math.round(performance.now() - checkStart)} ms: ${String(verdict.ok)}`,
      );
      if (errors !== '') console.log(`      errors: ${errors}`);

      const failed =
        verdict.ok !== true
          ? `history not linearizable (${String(verdict.ok)}) on ${verdict.key}`
          : faults.crashes.length > 0
            ? `cairn crashed: ${faults.crashes.join('; ')}`
            : undefined;
      if (failed !== undefined) {
        const saved = await saveFindings(failed, cluster, recorder, faults, verdict, transport, natsServer);
        console.log(`      ${failed}; evidence in ${saved}`);
        if (verdict.detail !== undefined) console.log(`      ${verdict.key}:\n        ${verdict.detail.join('\n        ')}`);
      }
      expect(faults.crashes, `members crashed (seed ${SEED})`).to.deep.equal([]);
      expect(verdict.ok, `linearizable (seed ${SEED}); failing key ${verdict.key}`).to.equal(true);
      expect(
        finalReads.every((r) => r !== undefined),
        'the final read of every key is answered after healing',
      ).to.equal(true);
      expect(faults.injected, 'faults injected').to.be.greaterThan(0);
      expect(s.acknowledgedWrites, 'acknowledged writes').to.be.greaterThan(MIN_ACKNOWLEDGED_WRITES);
    });
  });
}

for (const transport of TRANSPORTS) faultRun(transport);
