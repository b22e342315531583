import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freeLoopbackPort, loopbackPortOpen } from '@cairn/core/testkit';
import { etcdctl, type EtcdctlResult } from '../compat/etcdctl.js';
import { CAIRN_BIN, ETCD_BIN } from '../compat/processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where one member lives: its name, loopback ports and data dir. Kept across restarts. */
export interface MemberSpec {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
}

export type ServerKind = 'cairn' | 'etcd';

/** How members reach each other when not over TCP on their peer ports (cairn's other transports). */
export interface PeerTransport {
  /** The member's peer URL: what --initial-cluster, member add and member list name. */
  peerUrl(spec: MemberSpec): string;
  /** Flags that choose and configure the transport for this member (called at every start). */
  args(spec: MemberSpec): string[];
}

/** TCP on the member's peer port, etcd's way. */
const tcpPeerUrl = (spec: MemberSpec): string => `http://127.0.0.1:${spec.peerPort}`;

export interface ClusterOptions {
  /** Extra flags given to every member (e.g. --snapshot-count). */
  readonly extraArgs?: readonly string[];
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  readonly token?: string;
  /** Members reach each other through this instead of TCP (cairn only). */
  readonly transport?: PeerTransport;
}

/**
 * One member process of a cluster on loopback, started and stopped by its PID. It can be
 * killed (SIGKILL), paused (SIGSTOP) and resumed (SIGCONT), and started again on the same
 * ports and data dir.
 */
export class MemberProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: string[] = [];
  paused = false;

  constructor(
    readonly kind: ServerKind,
    readonly spec: MemberSpec,
    private readonly args: () => string[],
    private readonly transport?: PeerTransport,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.spec.clientPort}`;
  }

  get peerUrl(): string {
    return this.transport?.peerUrl(this.spec) ?? tcpPeerUrl(this.spec);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Everything the process wrote, across restarts (the last 2 MB). */
  log(): string {
    return this.output.join('').slice(-2_000_000);
  }

  /** Spawn the process; with `waitServing`, resolve once its client port accepts connections. */
  async start(extra: readonly string[] = [], waitServing = true): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    await mkdir(this.spec.dataDir, { recursive: true });
    const [command, ...rest] = this.kind === 'cairn' ? [process.execPath, CAIRN_BIN] : [ETCD_BIN];
    const child = spawn(command!, [...rest, ...this.args(), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.paused = false;
    this.output.push(`--- start ${this.spec.name} pid ${child.pid}\n`);
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    this.exited = new Promise((done) => child.once('exit', () => done()));
    if (!waitServing) return;
    const deadline = Date.now() + 30_000;
    while (!(await loopbackPortOpen(this.spec.clientPort))) {
      if (!this.running || Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.spec.name} did not start serving on ${this.endpoint}:\n${this.log().slice(-5000)}`);
      }
      await sleep(50);
    }
  }

  /** SIGKILL by PID: a crash, nothing flushed. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.running) {
      if (this.paused) process.kill(this.child!.pid!, 'SIGCONT');
      process.kill(this.child!.pid!, 'SIGKILL');
    }
    this.paused = false;
    await this.exited;
  }

  /** SIGSTOP by PID: the process stays, frozen (its sockets stay open, unanswered). */
  pause(): void {
    if (!this.running || this.paused) return;
    process.kill(this.child!.pid!, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running || !this.paused) return;
    process.kill(this.child!.pid!, 'SIGCONT');
    this.paused = false;
  }

  /** SIGTERM by PID, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.running) {
      this.resume();
      process.kill(this.child!.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (this.running) process.kill(this.child!.pid!, 'SIGKILL');
      }, 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** Run the real etcdctl against this member. */
  etcdctl(args: readonly string[], stdin?: string): Promise<EtcdctlResult> {
    return etcdctl(this.endpoint, args, stdin);
  }
}

/** Fresh loopback ports and a data dir under `dir` for each name. */
export async function memberSpecs(dir: string, names: readonly string[]): Promise<MemberSpec[]> {
  const specs: MemberSpec[] = [];
  for (const name of names) {
    specs.push({ name, clientPort: await freeLoopbackPort(), peerPort: await freeLoopbackPort(), dataDir: join(dir, name) });
  }
  return specs;
}

/** `name=http://127.0.0.1:port,...`, etcd's --initial-cluster form (`name=<peer URL>` over another transport). */
export function initialCluster(specs: readonly MemberSpec[], transport?: PeerTransport): string {
  return specs.map((s) => `${s.name}=${transport?.peerUrl(s) ?? tcpPeerUrl(s)}`).join(',');
}

/** The flags of one member, the same for cairn and etcd (both take etcd's flags). */
export function memberArgs(kind: ServerKind, spec: MemberSpec, cluster: string, state: 'new' | 'existing', options: ClusterOptions = {}): string[] {
  const client = `http://127.0.0.1:${spec.clientPort}`;
  const peer = `http://127.0.0.1:${spec.peerPort}`;
  const advertised = options.transport?.peerUrl(spec) ?? peer;
  return [
    '--name',
    spec.name,
    '--data-dir',
    spec.dataDir,
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    advertised,
    '--initial-cluster',
    cluster,
    '--initial-cluster-state',
    state,
    '--initial-cluster-token',
    options.token ?? 'e2e-cluster',
    '--heartbeat-interval',
    String(options.heartbeatMs ?? 50),
    '--election-timeout',
    String(options.electionMs ?? 500),
    ...(kind === 'etcd' ? ['--log-level', 'error'] : []),
    ...(options.transport?.args(spec) ?? []),
    ...(options.extraArgs ?? []),
  ];
}

/** A cluster of real processes on loopback. `members` grows when a member is added. */
export class ProcessCluster {
  readonly members: MemberProcess[] = [];

  private constructor(
    readonly kind: ServerKind,
    readonly dir: string,
    readonly options: ClusterOptions,
  ) {}

  static etcdInstalled(): boolean {
    return existsSync(ETCD_BIN);
  }

  /** Start `size` members bootstrapping a new cluster; resolves when every one serves clients. */
  static async start(kind: ServerKind, dir: string, size: number, options: ClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(kind, dir, options);
    const specs = await memberSpecs(
      dir,
      Array.from({ length: size }, (_, i) => `m${i + 1}`),
    );
    const bootstrap = initialCluster(specs, options.transport);
    for (const spec of specs) {
      cluster.members.push(new MemberProcess(kind, spec, () => memberArgs(kind, spec, bootstrap, 'new', options), options.transport));
    }
    try {
      // etcd's members wait for each other before serving: start all, then wait for each.
      await Promise.all(cluster.members.map((m) => m.start()));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** A member process for `name` joining with `--initial-cluster-state existing`; not started. */
  async joiner(name: string, clusterWithIt: (self: MemberSpec) => string): Promise<MemberProcess> {
    const [spec] = await memberSpecs(this.dir, [name]);
    const member = new MemberProcess(
      this.kind,
      spec!,
      () => memberArgs(this.kind, spec!, clusterWithIt(spec!), 'existing', this.options),
      this.options.transport,
    );
    this.members.push(member);
    return member;
  }

  get endpoints(): string {
    return this.running()
      .map((m) => m.endpoint)
      .join(',');
  }

  running(): MemberProcess[] {
    return this.members.filter((m) => m.running && !m.paused);
  }

  /**
   * The member that says it is the leader (`etcdctl endpoint status`), waiting up to `timeoutMs`
   * for one; members that do not answer are skipped.
   */
  async leader(timeoutMs = 20_000): Promise<MemberProcess> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const m of this.running()) {
        const r = await m.etcdctl(['endpoint', 'status', '-w', 'json']);
        if (r.code !== 0) continue;
        // IDs are uint64: compare the digits, JSON.parse would round them.
        const member = /"member_id":(\d+)/.exec(r.stdout)?.[1];
        const leader = /"leader":(\d+)/.exec(r.stdout)?.[1];
        if (member !== undefined && member === leader) return m;
      }
      if (Date.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Stop every member by its PID (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
