import { Container, ContainerModule } from 'inversify';
import { raftModule } from '../../assembly/raft-module.js';
import { CLOCK } from '../../ports/clock.js';
import { DEFERRAL } from '../../ports/deferral.js';
import { LOG_STORE } from '../../ports/log-store.js';
import { LOGGER } from '../../ports/logger.js';
import { RANDOM } from '../../ports/random.js';
import { SNAPSHOT_STORE } from '../../ports/snapshot-store.js';
import { STABLE_STORE } from '../../ports/stable-store.js';
import { TRANSPORT } from '../../ports/transport.js';
import type { PlantedBugs } from '../../raft/core-api.js';
import { RAFT_NODE_CONFIG, type RaftNodeConfig } from '../../raft/node-config.js';
import { STATE_MACHINE } from '../../raft/state-machine.js';
import { RaftNode, wasNotSubmitted } from '../../raft/node.js';
import { ConfChangeType, Role, type ConfState, type MemberId } from '../../protocol/raft-types.js';
import { checkLinearizable, type HistoryOperation, type LinearizabilityResult } from '../linearizability/index.js';
import type { RegisterInput, RegisterOutput } from '../linearizability/register-model.js';
import { MemoryDisk } from '../../memory/memory-disk.js';
import { MemoryLogStore } from '../../memory/memory-log-store.js';
import { MemoryLogger } from '../memory/memory-logger.js';
import { MemoryNetwork, type MemoryTransport } from '../memory/memory-network.js';
import { MemorySnapshotStore } from '../../memory/memory-snapshot-store.js';
import { MemoryStableStore } from '../../memory/memory-stable-store.js';
import { SeededRandom } from '../memory/seeded-random.js';
import { VirtualClock, VirtualClockDeferral } from '../memory/virtual-clock.js';
import { encodeRegisterCommand, RegisterStateMachine, type RegisterCommand } from './register-state-machine.js';
import { ObservedTransport } from './observed-transport.js';
import { SafetyChecker, SafetyViolation } from './safety-checker.js';

/** Every kind of fault the simulator can inject. */
export const FAULT_KINDS = [
  'partition',
  'isolate-leader',
  'asymmetric',
  'heal',
  'drop',
  'duplicate',
  'reorder',
  'delay',
  'crash',
  'restart',
  'remove-member',
  'add-learner',
  'promote-learner',
  'transfer-leader',
  'disk-failure',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SimulationOptions {
  readonly seed: number;
  /** Cluster size (default 3). */
  readonly members?: number;
  /** Virtual milliseconds of faults and client traffic (default 3,000). */
  readonly durationMs?: number;
  /** Virtual milliseconds after the faults stop, to let the cluster heal (default 1,500). */
  readonly settleMs?: number;
  /** Relative weight of each fault kind (default: all enabled); 0 disables one. */
  readonly faultWeights?: Partial<Record<FaultKind, number>>;
  /** Mean virtual milliseconds between fault actions (default 150). */
  readonly faultEveryMs?: number;
  /** Snapshot every this many entries (default: drawn per seed, small in a third of the seeds). */
  readonly snapshotCount?: number;
  /** Largest append message in bytes (default: drawn per seed; one entry per message in a third of the seeds). */
  readonly maxSizePerMsg?: number;
  readonly clients?: number;
  readonly keys?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Test only: plant a known bug in every member's Raft core. */
  readonly bugs?: PlantedBugs;
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  /** Which check failed: a Raft safety property, 'linearizability', or 'fatal error'. */
  readonly property?: string;
  readonly failure?: string;
  /** Operations in the client history, and how many of them completed. */
  readonly operations: number;
  readonly completed: number;
  /** Writes and compare-and-sets that were answered (acknowledged to the client). */
  readonly acknowledgedWrites: number;
  /** Writes and compare-and-sets left without an answer that may have taken effect. */
  readonly indeterminate: number;
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly leaderTerms: number;
  readonly highestCommitted: number;
  readonly snapshotsSent: number;
  /** The newest log lines of the run (on failure only). */
  readonly logTail: readonly string[];
}

interface Member {
  readonly slot: number;
  id: MemberId;
  generation: number;
  state: 'up' | 'crashed' | 'removed' | 'joining';
  disk: MemoryDisk;
  log: MemoryLogStore;
  stable: MemoryStableStore;
  snapshots: MemorySnapshotStore;
  sm: RegisterStateMachine;
  transport: MemoryTransport | undefined;
  node: RaftNode | undefined;
  /** Highest commit index whose entries were handed to the safety checker. */
  commitRecorded: number;
  /** Removed, and it sent a message to a member that applied its removal (which refuses it, as etcd's peers do). */
  toldRemoved: boolean;
}

const TICK_MS = 10;
/**
 * Timer events at one virtual instant after which the run counts as stalled (a busy run has fewer
 * than a hundred): members answering each other at zero delay without ever making progress would
 * otherwise keep virtual time from moving, and the run from ending.
 */
const STALL_EVENTS = 10_000;
const memberId = (slot: number, generation: number): MemberId => ((generation << 8) | (slot + 1)).toString(16).padStart(16, '0');

/**
 * One seeded run of a cluster on the memory ports and a virtual clock. Every choice — faults,
 * timings, client operations, Raft's randomized timeouts — comes from the seed, so a failing
 * seed replays exactly.
 */
export class Simulation {
  private readonly random: SeededRandom;
  private readonly clock = new VirtualClock();
  private readonly network: MemoryNetwork;
  private readonly logger: MemoryLogger;
  private readonly checker = new SafetyChecker();
  private readonly members: Member[] = [];
  /** Operations are recorded when called and completed when answered; `dropped` ones certainly had no effect. */
  private readonly history: { op: HistoryOperation; dropped: boolean }[] = [];
  private readonly faultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  private readonly weights: [FaultKind, number][];
  private readonly size: number;
  private readonly snapshotCount: number;
  private readonly maxSizePerMsg: number;
  private readonly keys: string[];
  private failure: { property: string; message: string } | undefined;
  private workloadOver = false;
  private pendingConfChange = false;
  private valueCounter = 0;

  constructor(private readonly options: SimulationOptions) {
    this.random = new SeededRandom(options.seed);
    this.size = options.members ?? 3;
    this.network = new MemoryNetwork({ clock: this.clock, random: this.random.fork() });
    this.logger = new MemoryLogger({ level: 'info', capacity: 400, now: () => this.clock.now() });
    this.snapshotCount = options.snapshotCount ?? (this.random.chance(1 / 3) ? this.random.int(3, 12) : 10_000);
    // Small appends leave followers matching old-term entries without the new leader's first entry.
    this.maxSizePerMsg = options.maxSizePerMsg ?? (this.random.chance(1 / 3) ? 1 : 4096);
    this.keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `k${i}`);
    this.weights = FAULT_KINDS.map((k) => [k, options.faultWeights?.[k] ?? 1]);
  }

  async run(): Promise<SimulationResult> {
    const duration = this.options.durationMs ?? 3_000;
    const settle = this.options.settleMs ?? 1_500;
    for (let slot = 0; slot < this.size; slot++) this.members.push(this.newMember(slot, 0));
    const initial = new Map(this.members.map((m) => [m.id, [`mem://${m.id}`]] as const));
    await this.clock.settle(Promise.all(this.members.map((m) => this.startMember(m, initial, false))));

    let instant = -1;
    let eventsAtInstant = 0;
    const stopped = (): boolean => {
      if (this.failure !== undefined) return true;
      if (this.clock.now() !== instant) {
        instant = this.clock.now();
        eventsAtInstant = 0;
      } else if (++eventsAtInstant >= STALL_EVENTS) {
        this.stalled();
      }
      return this.failure !== undefined;
    };
    const checks = this.clock.setInterval(() => this.checkCommits(), TICK_MS);
    this.scheduleFaults(duration);
    const clients = Array.from({ length: this.options.clients ?? 3 }, (_, c) => this.client(c, duration));

    await this.clock.runUntil(duration, stopped);
    if (!stopped()) {
      this.calm();
      await this.clock.runUntil(duration + settle, stopped);
    }
    this.workloadOver = true;
    checks.cancel();
    for (const m of this.members) m.node?.halt();
    await this.clock.runFor(1);
    void clients;
    const history = this.history.filter((h) => !h.dropped).map((h) => h.op);

    if (this.failure === undefined) {
      const lin: LinearizabilityResult = checkLinearizable(history);
      if (lin.ok === false) {
        this.failure = { property: 'linearizability', message: `history of key ${lin.key} is not linearizable:\n  ${lin.detail!.join('\n  ')}` };
      } else if (lin.ok === 'unknown') {
        this.failure = { property: 'linearizability', message: `search gave up on key ${lin.key}` };
      }
    }
    return {
      seed: this.options.seed,
      ok: this.failure === undefined,
      ...(this.failure === undefined ? {} : { property: this.failure.property, failure: this.failure.message }),
      operations: history.length,
      completed: history.filter((o) => o.return !== undefined).length,
      acknowledgedWrites: history.filter((o) => o.input.kind !== 'read' && o.return !== undefined).length,
      indeterminate: history.filter((o) => o.input.kind !== 'read' && o.return === undefined).length,
      faults: { ...this.faultCounts },
      leaderTerms: this.checker.leaderTerms,
      highestCommitted: this.checker.highestCommitted,
      snapshotsSent: this.network.stats.snapshotsSent,
      logTail: this.failure === undefined ? [] : this.logger.format(60),
    };
  }

  // ---- members ----

  private newMember(slot: number, generation: number): Member {
    const disk = this.newDisk();
    return {
      slot,
      generation,
      id: memberId(slot, generation),
      state: 'crashed',
      disk,
      log: new MemoryLogStore(disk),
      stable: new MemoryStableStore(disk),
      snapshots: new MemorySnapshotStore(disk),
      sm: new RegisterStateMachine(),
      transport: undefined,
      node: undefined,
      commitRecorded: 0,
      toldRemoved: false,
    };
  }

  private newDisk(): MemoryDisk {
    const syncRandom = this.random.fork();
    return new MemoryDisk({ clock: this.clock, syncDelay: () => syncRandom.int(0, 4) });
  }

  private async startMember(m: Member, peers: ReadonlyMap<MemberId, readonly string[]>, join: boolean): Promise<void> {
    const id = m.id;
    m.log.appendObserver = (prevTerm, entries) => this.guard(() => this.checker.appended(id, prevTerm, entries));
    m.sm = m.sm.recover((index, what) => this.guard(() => this.checker.appliedEntry(id, index, what)));
    m.transport = this.network.transport();
    // The node comes from the same container module as a real member's (raftModule); the
    // simulator binds the ports to its virtual clock, seeded random, network and memory disks.
    const config: RaftNodeConfig = {
      id,
      peers,
      join,
      clusterId: 'sim',
      raft: {
        electionTick: 10,
        heartbeatTick: 2,
        preVote: this.options.preVote ?? true,
        checkQuorum: this.options.checkQuorum ?? true,
        maxSizePerMsg: this.maxSizePerMsg,
        maxInflightMsgs: 8,
        maxInflightBytes: 64 * 1024,
        ...(this.options.bugs === undefined ? {} : { bugs: this.options.bugs }),
      },
      tickMs: TICK_MS,
      snapshotCount: this.snapshotCount,
      snapshotCatchUpEntries: 2,
      requestTimeoutMs: 600,
    };
    const container = new Container();
    const transport = new ObservedTransport(m.transport, (to) => this.sent(m, to));
    container.load(
      raftModule,
      new ContainerModule(({ bind }) => {
        bind(RAFT_NODE_CONFIG).toConstantValue(config);
        bind(STATE_MACHINE).toConstantValue(m.sm);
        bind(TRANSPORT).toConstantValue(transport);
        bind(LOG_STORE).toConstantValue(m.log);
        bind(STABLE_STORE).toConstantValue(m.stable);
        bind(SNAPSHOT_STORE).toConstantValue(m.snapshots);
        bind(CLOCK).toConstantValue(this.clock);
        bind(LOGGER).toConstantValue(this.logger);
        bind(RANDOM).toConstantValue(this.random.fork());
        bind(DEFERRAL).toConstantValue(new VirtualClockDeferral(this.clock));
      }),
    );
    const node = container.get(RaftNode);
    node.onLeaderChange((leader, term) => {
      if (leader !== id) return;
      this.guard(() => {
        this.checker.leaderElected(id, term);
        this.checker.leaderLog(id, term, m.log.firstIndex(), m.log.lastIndex(), (i) => m.log.termAt(i));
      });
    });
    node.onFatal((error) => {
      if (m.node === node && m.disk.syncsFailing) {
        // The failed disk stopped the member, as it must: a crash, from which it restarts on a new disk.
        this.crashAndMaybeRestart(m);
        return;
      }
      if (this.failure === undefined) {
        const violation = this.checker.violation;
        this.failure =
          violation !== undefined
            ? { property: violation.property, message: violation.message }
            : { property: 'fatal error', message: `member ${id}: ${error.message}` };
      }
    });
    m.node = node;
    m.state = 'joining';
    m.commitRecorded = 0;
    await node.start();
    if (m.node === node && m.state === 'joining' && !node.isHalted) m.state = 'up';
  }

  /** Run a check; a violation ends the run (and also halts the member it surfaced in). */
  private guard(check: () => void): void {
    try {
      check();
    } catch (err) {
      if (err instanceof SafetyViolation && this.failure === undefined) {
        this.failure = { property: err.property, message: err.message };
      }
      throw err;
    }
  }

  private crash(m: Member): void {
    m.node?.halt();
    m.disk.crash();
    m.node = undefined;
    m.state = 'crashed';
  }

  /** Crash `m`; most crashed members come back by themselves after a while. */
  private crashAndMaybeRestart(m: Member): void {
    this.crash(m);
    if (this.random.chance(0.7)) {
      this.clock.setTimeout(
        () => {
          if (m.state === 'crashed' && !this.workloadOver && this.failure === undefined) void this.restart(m);
        },
        this.random.int(20, 500),
      );
    }
  }

  private async restart(m: Member): Promise<void> {
    const disk = this.newDisk();
    m.disk = disk;
    m.log = m.log.recover(disk);
    m.stable = m.stable.recover(disk);
    m.snapshots = m.snapshots.recover(disk);
    // A member added after bootstrap must never bootstrap itself as a voter, even if its first save was lost.
    try {
      await this.startMember(m, this.peerMap(), m.generation > 0);
    } catch (err) {
      // A member that cannot restart from its own disk lost what it had made durable (or never had it).
      this.failure ??= { property: 'recovery', message: `member ${m.id} cannot restart: ${(err as Error).message}` };
      m.node?.halt();
    }
  }

  private peerMap(): Map<MemberId, readonly string[]> {
    return new Map(this.members.filter((m) => m.state !== 'removed').map((m) => [m.id, [`mem://${m.id}`]] as const));
  }

  private up(): Member[] {
    return this.members.filter((m) => m.state === 'up' && m.node !== undefined);
  }

  private leader(): Member | undefined {
    let best: Member | undefined;
    let bestTerm = -1;
    for (const m of this.up()) {
      const s = m.node!.status();
      if (s.role === Role.Leader && s.term > bestTerm) {
        best = m;
        bestTerm = s.term;
      }
    }
    return best;
  }

  /** The membership as the most advanced running member has applied it. */
  private conf(): ConfState | undefined {
    let best: Member | undefined;
    for (const m of this.up()) if (best === undefined || m.node!.appliedIndex() > best.node!.appliedIndex()) best = m;
    return best?.node!.membership();
  }

  // ---- checks ----

  private checkCommits(): void {
    if (this.failure !== undefined) return;
    try {
      for (const m of this.up()) {
        const s = m.node!.status();
        for (let i = Math.max(m.commitRecorded + 1, m.log.firstIndex()); i <= s.commit; i++) {
          const term = m.log.termAt(i);
          if (term === undefined) break;
          this.checker.committedEntry(m.id, i, term, s.term);
          m.commitRecorded = i;
        }
      }
      this.checkAcknowledged();
    } catch (err) {
      if (err instanceof SafetyViolation) this.failure = { property: err.property, message: err.message };
      else throw err;
    }
    this.reconcileMembership();
  }

  /** Every follower still holds what it acknowledged to the leader of its term (see SafetyChecker.acknowledgedEntries). */
  private checkAcknowledged(): void {
    const members = this.up();
    for (const leader of members) {
      const ls = leader.node!.status();
      if (ls.role !== Role.Leader) continue;
      for (const f of members) {
        const acknowledged = ls.match.get(f.id);
        if (f === leader || acknowledged === undefined) continue;
        const fs = f.node!.status();
        this.checker.acknowledgedEntries(leader.id, ls.term, f.id, fs.term, acknowledged, fs.lastIndex);
      }
    }
  }

  /** Virtual time stopped moving: name the broken property if a check finds one, else report the stall. */
  private stalled(): void {
    this.checkCommits();
    this.failure ??= {
      property: 'liveness',
      message: `virtual time stalled at ${this.clock.now()} ms: ${STALL_EVENTS} events at one instant (members answering each other at zero delay without progress)`,
    };
  }

  // ---- faults ----

  private scheduleFaults(until: number): void {
    const every = this.options.faultEveryMs ?? 150;
    const next = (): void => {
      if (this.clock.now() >= until || this.failure !== undefined) return;
      this.injectFault();
      this.clock.setTimeout(next, this.random.int(1, 2 * every));
    };
    this.clock.setTimeout(next, this.random.int(1, 2 * every));
  }

  private injectFault(): void {
    const total = this.weights.reduce((s, [, w]) => s + w, 0);
    if (total <= 0) return;
    let roll = this.random.next() * total;
    let kind: FaultKind = this.weights[0]![0];
    for (const [k, w] of this.weights) {
      if (roll < w) {
        kind = k;
        break;
      }
      roll -= w;
    }
    if (this.applyFault(kind)) this.faultCounts[kind]++;
  }

  /** Returns false when the fault could not apply now (nothing counted). */
  private applyFault(kind: FaultKind): boolean {
    const live = this.members.filter((m) => m.state !== 'removed');
    const ids = live.map((m) => m.id);
    const f = this.network.faults;
    switch (kind) {
      case 'partition': {
        if (ids.length < 2) return false;
        const shuffled = ids
          .map((id) => [this.random.next(), id] as const)
          .sort((a, b) => a[0] - b[0])
          .map((p) => p[1]);
        const cut = this.random.int(1, shuffled.length);
        this.network.heal();
        this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        return true;
      }
      case 'isolate-leader': {
        const leader = this.leader();
        if (leader === undefined) return false;
        this.network.heal();
        this.network.isolate(leader.id, ids);
        return true;
      }
      case 'asymmetric': {
        const links = this.random.int(1, 4);
        for (let i = 0; i < links; i++) {
          const from = this.random.pick(ids);
          const to = this.random.pick(ids);
          if (from !== to) this.network.block(from, to);
        }
        return true;
      }
      case 'heal':
        this.network.heal();
        return true;
      case 'drop':
        f.dropRate = this.random.chance(0.3) ? 0 : this.random.next() * 0.2;
        return true;
      case 'duplicate':
        f.duplicateRate = this.random.chance(0.3) ? 0 : this.random.next() * 0.2;
        return true;
      case 'reorder':
        f.reorder = !f.reorder;
        return true;
      case 'delay':
        f.minDelayMs = this.random.int(0, 3);
        f.maxDelayMs = f.minDelayMs + this.random.int(0, 30);
        return true;
      case 'crash': {
        const candidates = this.up();
        if (candidates.length === 0) return false;
        this.crashAndMaybeRestart(this.random.pick(candidates));
        return true;
      }
      case 'disk-failure': {
        // The member's disk starts failing every sync (EIO, nothing made durable): it must stop at
        // its next durable write without acknowledging what that write carried.
        const candidates = this.up().filter((m) => !m.disk.syncsFailing);
        if (candidates.length === 0) return false;
        this.random.pick(candidates).disk.failSyncs();
        return true;
      }
      case 'restart': {
        const crashed = this.members.filter((m) => m.state === 'crashed');
        if (crashed.length === 0) return false;
        void this.restart(this.random.pick(crashed));
        return true;
      }
      case 'transfer-leader': {
        const leader = this.leader();
        const conf = this.conf();
        if (leader === undefined || conf === undefined) return false;
        const others = conf.voters.filter((v) => v !== leader.id);
        if (others.length === 0) return false;
        leader.node!.transferLeadership(this.random.pick(others)).catch(() => undefined);
        return true;
      }
      case 'remove-member':
      case 'add-learner':
      case 'promote-learner':
        return this.membershipFault(kind);
    }
  }

  private membershipFault(kind: FaultKind): boolean {
    const leader = this.leader();
    const conf = this.conf();
    if (leader === undefined || conf === undefined || this.pendingConfChange) return false;
    const propose = (type: ConfChangeType, id: MemberId): void => {
      this.pendingConfChange = true;
      leader
        .node!.proposeConfChange({ type, memberId: id, context: new TextEncoder().encode(JSON.stringify({ peerURLs: [`mem://${id}`] })) })
        .catch(() => undefined)
        .finally(() => {
          this.pendingConfChange = false;
        });
    };
    if (kind === 'remove-member') {
      if (conf.voters.length < this.size || conf.learners.length > 0) return false;
      const first = this.random.pick(conf.voters);
      propose(ConfChangeType.RemoveMember, first);
      if (this.random.chance(0.5)) {
        // A second removal right behind the first, as a hasty operator's script would send: Raft
        // must refuse it while the first is pending (one change at a time).
        leader
          .node!.proposeConfChange({
            type: ConfChangeType.RemoveMember,
            memberId: this.random.pick(conf.voters.filter((v) => v !== first)),
            context: new Uint8Array(0),
          })
          .catch(() => undefined);
      }
      return true;
    }
    if (kind === 'add-learner') {
      const removed = this.members.find((m) => m.state === 'removed');
      if (removed === undefined || conf.learners.length > 0) return false;
      // A member comes back under a new ID with empty storage, as etcd requires.
      const fresh = this.newMember(removed.slot, removed.generation + 1);
      Object.assign(removed, { ...fresh, state: 'removed' });
      propose(ConfChangeType.AddLearner, removed.id);
      return true;
    }
    const learner = conf.learners[0];
    if (learner === undefined) return false;
    const m = this.members.find((x) => x.id === learner);
    if (m === undefined || m.state !== 'up') return false;
    const leaderLast = leader.node!.status().lastIndex;
    if (m.node!.appliedIndex() + 5 < leaderLast) return false;
    propose(ConfChangeType.PromoteLearner, learner);
    return true;
  }

  /** Stop members the cluster removed; start members it added. */
  private reconcileMembership(): void {
    const conf = this.conf();
    if (conf === undefined) return;
    const inConf = new Set([...conf.voters, ...conf.learners]);
    for (const m of this.members) {
      const selfKnown = m.node !== undefined && [...m.node.membership().voters, ...m.node.membership().learners].includes(m.id);
      if (m.state === 'up' && !inConf.has(m.id) && (selfKnown || m.generation === 0) && (m.toldRemoved || this.appliedRemovalOf(m, m))) {
        // Removed: etcd stops a member that applies its own removal, or whose message a peer that
        // applied it refuses. Until then (cut off, say) it carries on with the membership it has.
        m.node?.halt();
        m.node = undefined;
        m.state = 'removed';
        this.logger.info({ member: m.id }, 'simulator: member removed, stopped');
      } else if (m.state === 'crashed' && !inConf.has(m.id) && m.generation === 0) {
        m.state = 'removed';
      } else if (m.state === 'removed' && inConf.has(m.id) && m.node === undefined && m.log.lastIndex() === 0) {
        void this.startMember(m, this.peerMap(), true);
      }
    }
  }

  /** Has member `x` applied a membership without `m` (its removal)? */
  private appliedRemovalOf(x: Member, m: Member): boolean {
    const view = x.node?.membership();
    return view !== undefined && view.voters.length > 0 && !view.voters.includes(m.id) && !view.learners.includes(m.id);
  }

  /** `from` sends a message to `to`: a removed member learns it is removed from a peer that applied it. */
  private sent(from: Member, to: MemberId): void {
    if (from.toldRemoved || this.network.isBlocked(from.id, to)) return;
    const peer = this.members.find((x) => x.id === to && x.state === 'up');
    if (peer === undefined || !this.appliedRemovalOf(peer, from)) return;
    // A peer that never applied `from`'s addition has not removed it either.
    const conf = this.conf();
    if (conf !== undefined && !conf.voters.includes(from.id) && !conf.learners.includes(from.id)) from.toldRemoved = true;
  }

  /** End of the fault phase: heal the network, bring crashed members back, keep clients going. */
  private calm(): void {
    this.network.heal();
    Object.assign(this.network.faults, { dropRate: 0, duplicateRate: 0, reorder: false, minDelayMs: 1, maxDelayMs: 3 });
    for (const m of this.members) if (m.state === 'crashed') void this.restart(m);
  }

  // ---- clients ----

  private async client(client: number, until: number): Promise<void> {
    const random = this.random.fork();
    let lastSeen: string | null = null;
    while (!this.workloadOver && this.failure === undefined && this.clock.now() < until) {
      await this.sleep(random.int(0, 20));
      const conf = this.conf();
      const candidates = this.up().filter((m) => conf?.voters.includes(m.id) ?? true);
      if (candidates.length === 0) continue;
      const m = random.pick(candidates);
      const key = random.pick(this.keys);
      const roll = random.next();
      const call = this.clock.now();
      if (roll < 0.4) {
        const sm = m.sm;
        try {
          await m.node!.readIndex();
          const value = sm.get(key);
          lastSeen = value;
          this.history.push({ op: { client, key, input: { kind: 'read' }, call, return: this.clock.now(), output: { kind: 'read', value } }, dropped: false });
        } catch {
          // A read that failed had no effect.
        }
        continue;
      }
      const value = `c${client}-${++this.valueCounter}`;
      const command: RegisterCommand = roll < 0.75 ? { op: 'write', key, value } : { op: 'cas', key, expected: random.chance(0.2) ? null : lastSeen, value };
      const input: RegisterInput = command.op === 'write' ? { kind: 'write', value } : { kind: 'cas', expected: command.expected, value };
      // Recorded before the answer: a write still in flight when the run ends may have taken effect.
      const record = { op: { client, key, input, call } as HistoryOperation, dropped: false };
      this.history.push(record);
      try {
        const output = (await m.node!.propose(encodeRegisterCommand(command))) as RegisterOutput;
        record.op = { ...record.op, return: this.clock.now(), output };
      } catch (err) {
        if (wasNotSubmitted(err)) record.dropped = true;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

/** Run one seed. */
export function simulate(options: SimulationOptions): Promise<SimulationResult> {
  return new Simulation(options).run();
}
