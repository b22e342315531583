import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { etcdServiceDefinition } from '@cairn/api-grpc';
import {
  appendReliabilityRecord,
  commitUnderTest,
  type HistoryOperation,
  type LinearizabilityResult,
  type RegisterInput,
  type RegisterOutput,
  type ReliabilityRecord,
  type SeededRandom,
} from '@cairn/core/testkit';
import type { MemberProcess } from './cluster-processes.js';

/*
 * What the real-process fault tests share: a deadline-bound KV client, the recorder of register
 * operations the linearizability checker reads, the clients' loop, the fault log, restarting
 * members, the evidence saved on failure and the reliability record of each run.
 */

/** Per call: long enough to ride out one election (500 ms timeout), short enough that a paused member does not stall a client. */
export const CALL_DEADLINE_MS = 2_000;
/** Failing runs leave their evidence here. */
export const FINDINGS_DIR = '/tmp/fault-findings';

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
export class DeadlineKvClient {
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

export interface RunStats {
  ok: number;
  indeterminate: number;
  droppedReads: number;
  droppedUnsent: number;
  acknowledgedWrites: number;
  readonly errors: Map<string, number>;
}

/** Runs register operations against one member and records each in the shared history. */
export class HistoryRecorder {
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

  /** The most frequent errors, for the run's summary line. */
  errorSummary(): string {
    return [...this.stats.errors]
      .sort((a, b) => b[1] - a[1])
      .map(([e, n]) => `${n}× ${e}`)
      .join('; ');
  }
}

/** A client's loop: random reads, puts of unique values, and CAS from the last value it saw, until `until`. */
export async function clientLoop(
  recorder: HistoryRecorder,
  client: DeadlineKvClient,
  id: number,
  random: SeededRandom,
  until: number,
  keys: readonly string[],
): Promise<void> {
  const lastSeen = new Map<string, string | null>();
  for (let n = 0; performance.now() < until; n++) {
    const key = random.pick(keys);
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

/** After the faults: one linearizable read of each key (retried while the cluster settles), recorded like the rest. */
export async function finalReads(
  recorder: HistoryRecorder,
  client: DeadlineKvClient,
  id: number,
  keys: readonly string[],
): Promise<(RegisterOutput | undefined)[]> {
  const reads: (RegisterOutput | undefined)[] = [];
  for (const key of keys) {
    let out: RegisterOutput | undefined;
    for (let attempt = 0; out === undefined && attempt < 50; attempt++) {
      out = await recorder.run(client, id, key, { kind: 'read' });
      if (out === undefined) await sleep(200);
    }
    reads.push(out);
  }
  return reads;
}

export interface FaultLog {
  readonly lines: string[];
  injected: number;
  /** Faults injected by kind (sigkill, sigstop, isolate-leader, ...). */
  readonly byKind: Record<string, number>;
  /** Members that exited, or failed to start again, when the nemesis had not killed them. */
  readonly crashes: string[];
}

export const newFaultLog = (): FaultLog => ({ lines: [], injected: 0, byKind: {}, crashes: [] });

/** Count one injected fault of `kind`. */
export function countFault(faults: FaultLog, kind: string): void {
  faults.injected++;
  faults.byKind[kind] = (faults.byKind[kind] ?? 0) + 1;
}

/** A logger of timestamped lines (seconds since `t0`, and the wall-clock time) into the fault log. */
export function faultNotes(faults: FaultLog, t0: number): (line: string) => void {
  return (line) => void faults.lines.push(`${((performance.now() - t0) / 1000).toFixed(2)}s ${new Date().toISOString().slice(11, 23)} ${line}`);
}

/** A member found not running that the nemesis did not kill has crashed: note it and bring it back. */
export async function restartCrashed(members: readonly MemberProcess[], faults: FaultLog, note: (line: string) => void): Promise<void> {
  for (const m of members) {
    if (m.running) continue;
    faults.crashes.push(`${m.spec.name} exited by itself`);
    note(`CRASH: ${m.spec.name} is not running; starting it again`);
    await restart(m, faults, note);
  }
}

export async function restart(m: MemberProcess, faults: FaultLog, note: (line: string) => void): Promise<void> {
  try {
    await m.start();
  } catch (err) {
    faults.crashes.push(`${m.spec.name} did not start again: ${(err as Error).message.split('\n')[0]}`);
    note(`CRASH: ${m.spec.name} did not start again`);
  }
}

export interface Findings {
  /** Names the evidence directory beside the seed (e.g. the transport). */
  readonly label: string;
  readonly seed: number;
  readonly reason: string;
  readonly replay: string;
  readonly recorder: HistoryRecorder;
  readonly faults: FaultLog;
  readonly verdict: LinearizabilityResult | undefined;
  readonly members: readonly MemberProcess[];
  /** More files to save (name → content): other processes' logs, other checks' details. */
  readonly files?: Readonly<Record<string, string>>;
}

/** Seed, reason, the failing key's operations, the whole history and every member's output, for a replay. */
export async function saveFindings(f: Findings): Promise<string> {
  const dir = join(FINDINGS_DIR, `seed-${f.seed}-${f.label}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'summary.txt'),
    [
      `reason: ${f.reason}`,
      `seed: ${f.seed} (replay: ${f.replay})`,
      `verdict: ${JSON.stringify({ ok: f.verdict?.ok, key: f.verdict?.key })}`,
      `crashes: ${f.faults.crashes.join('; ') || 'none'}`,
      `faults by kind: ${JSON.stringify(f.faults.byKind)}`,
      'faults:',
      ...f.faults.lines,
      '',
    ].join('\n'),
  );
  if (f.verdict?.detail !== undefined)
    await writeFile(join(dir, `detail-${f.verdict.key ?? 'key'}`.replace(/\//g, '_') + '.txt'), f.verdict.detail.join('\n') + '\n');
  await writeFile(join(dir, 'history.json'), JSON.stringify(f.recorder.history, null, 1));
  for (const m of f.members) await writeFile(join(dir, `${m.spec.name}.log`), m.log());
  for (const [name, content] of Object.entries(f.files ?? {})) await writeFile(join(dir, name), content);
  return dir;
}

/** Appends `record`, with the commit under test, as one JSON line to $CAIRN_RELIABILITY_RECORD when it is set (docs/reliability.md's input). */
export function recordRun(record: ReliabilityRecord): void {
  const path = process.env['CAIRN_RELIABILITY_RECORD'];
  if (path === undefined || path === '') return;
  const commit = commitUnderTest();
  appendReliabilityRecord(path, commit === undefined ? record : { ...record, commit });
}
