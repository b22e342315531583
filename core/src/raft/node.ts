import type { Clock, TimerHandle } from '../ports/clock.js';
import type { LogStore } from '../ports/log-store.js';
import type { Logger } from '../ports/logger.js';
import type { Random } from '../ports/random.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { StableState, StableStore } from '../ports/stable-store.js';
import type { Transport, TransportHandler } from '../ports/transport.js';
import { EtcdErrors } from '../api/errors.js';
import type { PlantedBugs, RaftConfig, RaftCore, RaftInitialState, RaftStatus } from './core-api.js';
import { decodeEnvelope, encodeEnvelope } from './proposal-envelope.js';
import { createRaft } from './raft.js';
import { LeaderRequests, type LeaderRequestHandler } from './leader-requests.js';
import { message } from '../protocol/message.js';
import { decodeConfChange, encodeConfChange, memberChangeContext, peerUrlsOfContext } from './conf-change.js';
import type { StateMachine, StateMachineSnapshot } from './state-machine.js';
import {
  ConfChangeType, EntryType, MessageType, NO_MEMBER, Role,
  type ConfChange, type ConfState, type Entry, type HardState, type MemberId, type Message, type Ready, type SnapshotMeta,
} from '../protocol/raft-types.js';

/** Raft settings of a node; every field has an etcd-like default. */
export interface RaftNodeRaftOptions {
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly maxSizePerMsg?: number;
  readonly maxInflightMsgs?: number;
  readonly maxInflightBytes?: number;
  /** Test only: plant known bugs in the Raft core. */
  readonly bugs?: PlantedBugs;
}

export interface RaftNodePorts {
  readonly transport: Transport;
  readonly logStore: LogStore;
  readonly stableStore: StableStore;
  readonly snapshotStore: SnapshotStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: Random;
}

export interface RaftNodeOptions {
  readonly id: MemberId;
  /**
   * The initial cluster: member → peer URLs (self included). On a fresh store its members are the
   * first voters, unless `join` is set; it also seeds the transport's peer table at every start.
   */
  readonly peers: ReadonlyMap<MemberId, readonly string[]>;
  /** A fresh member joining an existing cluster: start with no membership and wait for the leader. */
  readonly join?: boolean;
  /**
   * The cluster this member belongs to; a saved state of another cluster is refused. Undefined
   * for a member joining: it takes the cluster ID of the first peer that reaches it, and keeps it.
   */
  readonly clusterId?: string;
  readonly raft?: RaftNodeRaftOptions;
  readonly ports: RaftNodePorts;
  readonly stateMachine: StateMachine;
  /** Milliseconds per Raft tick (etcd's heartbeat interval is 1 tick). */
  readonly tickMs?: number;
  /** Flush the state machine and compact the log every this many applied entries (no snapshot is copied). */
  readonly snapshotCount?: number;
  /** Entries the LogStore keeps behind the compaction point, so a slightly lagging follower gets entries, not a snapshot. */
  readonly snapshotCatchUpEntries?: number;
  /** A proposal, read or transfer not done by then fails with etcd's timeout error. */
  readonly requestTimeoutMs?: number;
  /** Peer URLs of a member a ConfChange adds (default: `peerURLs` of the context as JSON, else none). */
  readonly peerUrlsOf?: (change: ConfChange) => readonly string[];
  /** The context of a founding member's bootstrap AddVoter entry (default: JSON with its `peerURLs`). */
  readonly bootstrapContext?: (member: MemberId, peerUrls: readonly string[]) => Uint8Array;
  /** How "the end of this turn of the event loop" is scheduled (default setImmediate; the simulator uses its clock). */
  readonly defer?: (run: () => void) => void;
  /** Builds the consensus core (tests may wrap it). */
  readonly createRaft?: (config: RaftConfig, initial: RaftInitialState) => RaftCore;
}

export type LeaderChangeListener = (leader: MemberId, term: number) => void;

interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerHandle;
}

/** Errors of calls that never reached the Raft log, so they certainly had no effect. */
const notSubmitted = new WeakSet<Error>();

/** True when `error` came from a call that was refused before it reached Raft (it had no effect). */
export function wasNotSubmitted(error: unknown): boolean {
  return error instanceof Error && notSubmitted.has(error);
}

const decoder = new TextDecoder();

const peerUrlsOfChange = (change: ConfChange): readonly string[] => peerUrlsOfContext(change.context);

const sameConfChange = (a: ConfChange, b: ConfChange): boolean => a.type === b.type && a.memberId === b.memberId;

/**
 * Runs one Raft member: feeds the pure core ticks, messages and proposals, and turns each Ready
 * into I/O through the ports in the order the Ready contract prescribes. Everything it does is
 * serialized in one loop; inputs that arrive while a Ready is being handled wait for advance().
 */
export class RaftNode {
  readonly id: MemberId;
  private raft: RaftCore | undefined;
  private readonly inbox: (() => void)[] = [];
  private readonly afterAdvance: (() => Promise<void>)[] = [];
  private pendingTicks = 0;
  private running = false;
  private scheduled = false;
  private started = false;
  private halted = false;
  private tickTimer: TimerHandle | undefined;
  /** An inbound snapshot is stored and its Snap message not yet through a Ready: refuse others meanwhile. */
  private snapshotPending = false;
  private snapshotStepped = false;

  private hardState: HardState = { term: 0, vote: NO_MEMBER, commit: 0 };
  private confState: ConfState = { voters: [], learners: [] };
  private clusterId = '';
  /** The cluster ID was learned from a peer and is not saved yet. */
  private identityUnsaved = false;
  private applied = 0;
  private appliedTerm = 0;
  private snapshotIndex = 0;
  private leader: MemberId = NO_MEMBER;
  private role: Role = Role.Follower;
  private readonly peerTable = new Map<MemberId, readonly string[]>();

  private incarnation = 0;
  private sequence = 0;
  private readonly proposals = new Map<number, Waiter<unknown>>();
  private readonly reads = new Map<string, Waiter<number>>();
  /** ReadStates received, waiting for applied ≥ index. */
  private readonly readsAwaitingApply: { index: number; key: string }[] = [];
  private readonly confChanges: { change: ConfChange; waiter: Waiter<ConfState> }[] = [];
  private readonly transfers: { to: MemberId; waiter: Waiter<void> }[] = [];
  private readonly leaderListeners: LeaderChangeListener[] = [];
  private readonly removedListeners: (() => void)[] = [];
  private readonly fatalListeners: ((error: Error) => void)[] = [];
  /** Set when the loop hit an error it cannot recover from; the node has halted. */
  fatalError: Error | undefined;

  private readonly logger: Logger;
  private readonly tickMs: number;
  private readonly snapshotCount: number;
  private readonly catchUpEntries: number;
  private readonly requestTimeoutMs: number;
  private readonly defer: (run: () => void) => void;
  private readonly leaderRequests: LeaderRequests;

  constructor(private readonly options: RaftNodeOptions) {
    this.id = options.id;
    this.logger = options.ports.logger.child({ member: options.id });
    this.tickMs = options.tickMs ?? 100;
    this.snapshotCount = options.snapshotCount ?? 10_000;
    this.catchUpEntries = options.snapshotCatchUpEntries ?? 5_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 7_000;
    this.defer = options.defer ?? ((run) => setImmediate(run));
    this.leaderRequests = new LeaderRequests(
      () => this.id, () => this.leader, () => this.hardState.term,
      (m) => { if (!this.halted) this.options.ports.transport.send([m]); },
      options.ports.clock,
    );
  }

  /** Load durable state, restore the state machine if it is behind the latest snapshot, build Raft, start ticking and the transport. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`member ${this.id} already started`);
    this.started = true;
    const { stableStore, snapshotStore, logStore, transport, clock, random } = this.options.ports;
    const sm = this.options.stateMachine;

    const saved = await stableStore.load();
    const configured = this.options.clusterId;
    if (saved !== undefined && configured !== undefined && saved.clusterId !== '' && saved.clusterId !== configured) {
      throw new Error(`member ${this.id}: cluster ID mismatch: the data dir belongs to cluster ${saved.clusterId}, the configuration (initial-cluster and initial-cluster-token) names cluster ${configured}`);
    }
    if (saved !== undefined && saved.memberId !== this.id) {
      throw new Error(`member ID mismatch: the data dir belongs to member ${saved.memberId}, the configuration (initial-advertise-peer-urls and initial-cluster-token) names member ${this.id}`);
    }
    if (saved === undefined) {
      this.clusterId = this.options.clusterId ?? '';
      if (this.options.join) {
        this.confState = { voters: [], learners: [] };
      } else {
        // Bootstrap as etcd does: the initial membership is the log's first entries (term 1,
        // committed), identical on every founding member, so a member that joins later and
        // replays the log from the start learns it too.
        const founders = [...this.options.peers.keys()].sort();
        const bootstrap: Entry[] = founders.map((id, i) => ({
          index: i + 1, term: 1, type: EntryType.ConfChange,
          data: encodeConfChange({ type: ConfChangeType.AddVoter, memberId: id, context: this.bootstrapContext(id) }),
        }));
        await logStore.append(bootstrap);
        this.confState = { voters: founders, learners: [] };
        this.hardState = { term: 1, vote: NO_MEMBER, commit: bootstrap.length };
      }
      await stableStore.save(this.stableState());
    } else {
      this.clusterId = saved.clusterId === '' ? this.options.clusterId ?? '' : saved.clusterId;
      this.hardState = saved.hardState;
      this.confState = saved.confState;
    }

    // The state machine is the durable state; the log starts where it was last compacted. A stored
    // snapshot is always one this member received: restore it when the state machine is behind it.
    const stored = await snapshotStore.latest();
    const held = await sm.appliedIndex();
    if (held === undefined && stored === undefined) {
      throw new Error(`member ${this.id}: the state machine's last snapshot restore was cut short and no stored snapshot is left to restore it from; refusing to start on a half-restored store`);
    }
    let applied = held ?? 0;
    if (stored !== undefined && (held === undefined || stored.meta.index > held)) {
      if (held === undefined) this.logger.warn({ index: stored.meta.index }, 'state machine restore was cut short; restoring the stored snapshot again');
      await sm.restore(stored.meta, stored.read());
      applied = stored.meta.index;
    }
    if (stored !== undefined && stored.meta.index === applied) {
      // Restored now, or installed before a crash that may have cut short the log's alignment with
      // it or the save of its membership: finish both (the membership at `applied` is the snapshot's).
      if (stored.meta.index >= logStore.firstIndex() - 1) await this.alignLogWith(stored.meta);
      this.confState = stored.meta.confState;
    }
    const compactedTo = logStore.firstIndex() - 1;
    if (applied < compactedTo) {
      throw new Error(`member ${this.id}: the state machine holds entries up to ${applied}, but the log was compacted up to ${compactedTo}; entries ${applied + 1}..${compactedTo} are gone (the state machine's storage does not belong with this log)`);
    }
    if (applied > logStore.lastIndex()) {
      throw new Error(`member ${this.id}: the state machine holds entries up to ${applied}, past the log's last index ${logStore.lastIndex()} (the state machine's storage does not belong with this log)`);
    }
    const compactedTerm = await logStore.term(compactedTo);
    if (compactedTerm === undefined) throw new Error(`member ${this.id}: the log store does not know the term of its compaction point ${compactedTo}`);
    // Raft needs the compaction point's index and term; the membership it carries is only ever sent
    // in Snap messages, which sendSnapshot rewrites to what it streams.
    const snapshot: SnapshotMeta | undefined = compactedTo === 0 ? undefined : { index: compactedTo, term: compactedTerm, confState: this.confState };
    this.snapshotIndex = Math.max(compactedTo, stored?.meta.index ?? 0);
    const entries = compactedTo < logStore.lastIndex() ? await logStore.entries(compactedTo + 1, logStore.lastIndex() + 1) : [];
    this.applied = applied;
    const appliedTerm = await logStore.term(applied);
    if (appliedTerm === undefined) throw new Error(`member ${this.id}: the log store does not know the term of applied entry ${applied}`);
    this.appliedTerm = appliedTerm;
    this.hardState = { ...this.hardState, commit: Math.max(this.hardState.commit, applied) };

    const r = this.options.raft ?? {};
    const config: RaftConfig = {
      id: this.id,
      electionTick: r.electionTick ?? 10,
      heartbeatTick: r.heartbeatTick ?? 1,
      preVote: r.preVote ?? true,
      checkQuorum: r.checkQuorum ?? true,
      maxSizePerMsg: r.maxSizePerMsg ?? 1024 * 1024,
      maxInflightMsgs: r.maxInflightMsgs ?? 256,
      maxInflightBytes: r.maxInflightBytes ?? 32 * 1024 * 1024,
      catchUpEntries: this.catchUpEntries,
      random,
      ...(r.bugs === undefined ? {} : { bugs: r.bugs }),
    };
    const initial: RaftInitialState = {
      hardState: this.hardState,
      confState: this.confState,
      ...(snapshot === undefined ? {} : { snapshot }),
      entries,
      applied,
    };
    if (this.halted) return;
    this.raft = (this.options.createRaft ?? createRaft)(config, initial);
    this.incarnation = random.int(0, 0x1_0000_0000);

    for (const [member, urls] of this.options.peers) this.peerTable.set(member, urls);
    this.addRecordedPeers();
    this.addMembersToPeers(this.confState);
    const handler: TransportHandler = {
      onMessage: (m) => this.receive(m),
      onSnapshot: (m, data) => this.receiveSnapshot(m, data),
      onClusterId: (id) => this.learnClusterId(id),
    };
    await transport.start(this.id, handler, this.clusterId);
    if (this.halted) {
      await transport.stop();
      return;
    }
    transport.setPeers(this.peerTable);
    this.tickTimer = clock.setInterval(() => {
      this.pendingTicks++;
      this.kick();
    }, this.tickMs);
    if (this.confState.voters.length === 1 && this.confState.voters[0] === this.id && this.confState.learners.length === 0) {
      this.inbox.push(() => this.raft!.campaign());
    }
    this.logger.info({ term: this.hardState.term, commit: this.hardState.commit, applied, snapshot: snapshot?.index ?? 0 }, 'raft node started');
    this.kick();
  }

  /** Stop ticking and the transport; calls still waiting fail with etcd's "server stopped". */
  async stop(): Promise<void> {
    if (!this.halted) this.halt();
    await this.options.ports.transport.stop();
  }

  /**
   * Stop dead at once, as a crash would: no further I/O is issued and nothing pending completes.
   * The simulator calls this before discarding what the member's disk had not made durable.
   * Calls still waiting fail with etcd's "server stopped" (a proposal among them may yet commit).
   */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    this.tickTimer?.cancel();
    const waiters = this.allWaiters();
    this.clearWaiters();
    this.leaderRequests.failAll(EtcdErrors.stopped());
    for (const w of waiters) {
      w.timer.cancel();
      w.reject(EtcdErrors.stopped());
    }
    void this.options.ports.transport.stop();
  }

  get isHalted(): boolean {
    return this.halted;
  }

  /**
   * Propose `payload` and resolve with what the state machine's apply returned for it, once it is
   * applied on this member. Rejects with etcd's errors: "no leader" at once when no leader is
   * known, "request timed out" when it was not applied in time (it may still be applied later).
   */
  propose(payload: Uint8Array): Promise<unknown> {
    const sequence = ++this.sequence;
    return new Promise<unknown>((resolve, reject) => {
      if (!this.acceptsCalls(reject)) return;
      const timer = this.options.ports.clock.setTimeout(() => this.expire(this.proposals, sequence), this.requestTimeoutMs);
      this.proposals.set(sequence, { resolve, reject, timer });
      this.inbox.push(() => {
        if (!this.proposals.has(sequence)) return;
        const data = encodeEnvelope({ member: this.id, incarnation: this.incarnation, sequence, payload });
        if (!this.raft!.propose(data)) this.refuse(this.proposals, sequence);
      });
      this.kick();
    });
  }

  /** A linearizable read barrier: resolves (with the read index) once this member has applied everything committed before the call. */
  readIndex(): Promise<number> {
    const key = `${this.incarnation}:${++this.sequence}`;
    return new Promise<number>((resolve, reject) => {
      if (!this.acceptsCalls(reject)) return;
      const timer = this.options.ports.clock.setTimeout(() => this.expire(this.reads, key), this.requestTimeoutMs);
      this.reads.set(key, { resolve, reject, timer });
      this.inbox.push(() => {
        if (!this.reads.has(key)) return;
        if (this.raft!.status().leader === NO_MEMBER) {
          this.refuse(this.reads, key);
          return;
        }
        this.raft!.readIndex(new TextEncoder().encode(key));
      });
      this.kick();
    });
  }

  /** Propose a membership change; resolves with the new membership once it is applied here. */
  proposeConfChange(change: ConfChange): Promise<ConfState> {
    return new Promise<ConfState>((resolve, reject) => {
      if (!this.acceptsCalls(reject)) return;
      const entry: { change: ConfChange; waiter: Waiter<ConfState> } = {
        change,
        waiter: {
          resolve, reject,
          timer: this.options.ports.clock.setTimeout(() => {
            const i = this.confChanges.indexOf(entry);
            if (i >= 0) this.confChanges.splice(i, 1);
            reject(this.leader === NO_MEMBER ? EtcdErrors.noLeader() : EtcdErrors.timeout());
          }, this.requestTimeoutMs),
        },
      };
      this.confChanges.push(entry);
      this.inbox.push(() => {
        if (!this.confChanges.includes(entry)) return;
        if (!this.raft!.proposeConfChange(change)) {
          this.confChanges.splice(this.confChanges.indexOf(entry), 1);
          entry.waiter.timer.cancel();
          const error = this.raft!.status().leader === NO_MEMBER ? EtcdErrors.noLeader() : new Error('raft proposal dropped');
          notSubmitted.add(error);
          reject(error);
        }
      });
      this.kick();
    });
  }

  /** Ask the leader to hand leadership to `to`; resolves when this member sees `to` lead. */
  transferLeadership(to: MemberId): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!this.acceptsCalls(reject)) return;
      const entry: { to: MemberId; waiter: Waiter<void> } = {
        to,
        waiter: {
          resolve, reject,
          timer: this.options.ports.clock.setTimeout(() => {
            const i = this.transfers.indexOf(entry);
            if (i >= 0) this.transfers.splice(i, 1);
            reject(EtcdErrors.timeout());
          }, this.requestTimeoutMs),
        },
      };
      this.transfers.push(entry);
      this.inbox.push(() => this.raft!.transferLeadership(to));
      this.kick();
    });
  }

  /** The cluster ID (16 hex digits); '' while a joining member has not heard from the cluster. */
  cluster(): string {
    return this.clusterId;
  }

  status(): RaftStatus {
    if (this.raft === undefined) throw new Error(`member ${this.id} is not started`);
    return this.raft.status();
  }

  /** What this member has applied to its state machine. */
  appliedIndex(): number {
    return this.applied;
  }

  /** The leader this member knows of (NO_MEMBER when none). */
  currentLeader(): MemberId {
    return this.leader;
  }

  /** Peer URLs of every member this node knows of (founders and applied membership changes). */
  peerUrls(): ReadonlyMap<MemberId, readonly string[]> {
    return new Map(this.peerTable);
  }

  /** The membership as this member has applied it. */
  membership(): ConfState {
    return this.confState;
  }

  /**
   * Ask the leader, outside the log (see LeaderRequests): for what needs the leader's answer but
   * changes no replicated state. Rejects with LeaderRequestError when this member leads or knows
   * no leader, the leader refuses, or no answer comes within an election timeout.
   */
  askLeader(kind: string, payload: Uint8Array): Promise<Uint8Array> {
    if (this.halted) return Promise.reject(EtcdErrors.stopped());
    return this.leaderRequests.ask(kind, payload, this.tickMs * (this.options.raft?.electionTick ?? 10));
  }

  /** Answer `kind` requests from the other members while this member leads. */
  serveLeaderRequests(kind: string, handler: LeaderRequestHandler): void {
    this.leaderRequests.serve(kind, handler);
  }

  onLeaderChange(listener: LeaderChangeListener): void {
    this.leaderListeners.push(listener);
  }

  /** Called once this member has applied its own removal. */
  onRemoved(listener: () => void): void {
    this.removedListeners.push(listener);
  }

  /** Called when the node halts on an error it cannot recover from. */
  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  // ---- the loop ----

  private receive(m: Message): void {
    if (this.halted || this.raft === undefined) return;
    if (this.leaderRequests.receive(m)) return;
    // A Snap message travels only with its data, through onSnapshot.
    if (m.type === MessageType.Snap) return;
    this.inbox.push(() => this.raft!.step(m));
    this.kick();
  }

  private async receiveSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.halted || this.raft === undefined) throw new Error(`member ${this.id} is stopped`);
    const meta = m.snapshot;
    if (meta === undefined) throw new Error('snapshot message without metadata');
    // Already applied, or from a deposed leader's term (Raft will ignore it): never store it, so
    // it cannot become the latest snapshot ahead of one this member must install.
    if (meta.index <= this.applied || m.term < this.raft.status().term) {
      for await (const _ of data) { /* drain it */ }
      this.inbox.push(() => this.raft!.step(m));
      this.kick();
      return;
    }
    // The one being installed must stay the latest stored until its Ready is handled. (Only
    // inbound snapshots are ever saved, so nothing else can take its place meanwhile.)
    if (this.snapshotPending) throw new Error(`member ${this.id} is installing another snapshot`);
    this.snapshotPending = true;
    try {
      await this.options.ports.snapshotStore.save(meta, data);
    } catch (err) {
      this.snapshotPending = false;
      throw err;
    }
    if (this.halted) throw new Error(`member ${this.id} is stopped`);
    this.inbox.push(() => {
      this.raft!.step(m);
      this.snapshotStepped = true;
    });
    this.kick();
  }

  private kick(): void {
    if (this.halted || this.scheduled || this.running || this.raft === undefined) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.halted) return;
    this.running = true;
    const raft = this.raft!;
    try {
      for (;;) {
        while (this.inbox.length > 0 && !this.halted) this.inbox.shift()!();
        while (this.pendingTicks > 0 && !this.halted) {
          this.pendingTicks--;
          raft.tick();
        }
        if (this.halted || !raft.hasReady()) {
          this.snapshotSettled();
          break;
        }
        const rd = raft.ready();
        await this.handleReady(rd);
        if (this.halted) return;
        raft.advance(rd);
        this.snapshotSettled();
        while (this.afterAdvance.length > 0 && !this.halted) await this.afterAdvance.shift()!();
        if (this.halted) return;
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.running = false;
    }
    if (!this.halted && (this.inbox.length > 0 || this.pendingTicks > 0)) this.kick();
  }

  /** A stepped inbound snapshot has been through a Ready (installed, or ignored by Raft). */
  private snapshotSettled(): void {
    if (!this.snapshotStepped) return;
    this.snapshotStepped = false;
    this.snapshotPending = false;
  }

  private async handleReady(rd: Ready): Promise<void> {
    const { logStore, stableStore } = this.options.ports;
    if (rd.softState !== undefined) this.noteSoftState(rd.softState.leader, rd.softState.role);
    if (this.send(rd.messagesBeforePersist) && rd.entries.length > 0) {
      // A log store may sync on this thread (the WAL does for a lone entry): let the transport's
      // flush of this turn (it batches per turn) go first, so the leader's sync overlaps the
      // followers' instead of delaying their appends by it.
      await this.nextTurn();
      if (this.halted) return;
    }
    let stableDirty = false;
    if (rd.snapshot !== undefined) {
      await this.installSnapshot(rd.snapshot);
      if (this.halted) return;
      stableDirty = true;
    }
    if (rd.hardState !== undefined) {
      // Term and vote must be durable before anything is sent that depends on them. The commit
      // index need not be (a restart relearns it, and starts from the applied index at least), so
      // a Ready that only moved it costs no sync, as in etcd.
      if (rd.hardState.term !== this.hardState.term || rd.hardState.vote !== this.hardState.vote) stableDirty = true;
      this.hardState = rd.hardState;
    }
    const writes: Promise<void>[] = [];
    if (rd.entries.length > 0) writes.push(logStore.append(rd.entries));
    if (this.identityUnsaved) {
      this.identityUnsaved = false;
      stableDirty = true;
    }
    if (stableDirty) writes.push(stableStore.save(this.stableState()));
    if (writes.length > 0) await Promise.all(writes);
    if (this.halted) return;
    this.send(rd.messages);
    for (const entry of rd.committedEntries) {
      await this.applyEntry(entry);
      if (this.halted) return;
    }
    for (const rs of rd.readStates) {
      const key = decoder.decode(rs.context);
      if (this.reads.has(key)) this.readsAwaitingApply.push({ index: rs.index, key });
    }
    this.settleReads();
    if (this.applied - this.snapshotIndex >= this.snapshotCount) await this.compactLog();
  }

  private noteSoftState(leader: MemberId, role: Role): void {
    const becameLeader = role === Role.Leader && this.role !== Role.Leader;
    this.role = role;
    if (becameLeader) this.logger.info({ term: this.raft!.status().term }, 'became leader');
    if (leader === this.leader) return;
    this.leader = leader;
    const term = this.raft!.status().term;
    if (leader !== NO_MEMBER && !becameLeader) this.logger.info({ leader, term }, 'leader changed');
    for (const t of this.transfers.splice(0)) {
      if (t.to === leader) {
        t.waiter.timer.cancel();
        t.waiter.resolve();
      } else {
        this.transfers.push(t);
      }
    }
    for (const listener of this.leaderListeners) listener(leader, term);
  }

  /** Resolves at the end of this turn of the event loop, after what was scheduled before it. */
  private nextTurn(): Promise<void> {
    return new Promise((resolve) => this.defer(resolve));
  }

  /** Hands `messages` to the transport (snapshots to their stream); true when any went to a peer. */
  private send(messages: readonly Message[]): boolean {
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.to === this.id) continue;
      if (m.type === MessageType.Snap) this.sendSnapshot(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.options.ports.transport.send(plain);
    return plain.length > 0;
  }

  /**
   * Stream the state machine as it is now to `m.to` (etcd's "merged snapshot"): Raft asked for a
   * snapshot because the follower needs entries compacted away, and the state machine is the only
   * copy of them. Called between Readys, when nothing is being applied, so the state pinned here is
   * at `this.applied`, with `this.appliedTerm` and `this.confState`; the message is rewritten to
   * say so. That index is at or past the one Raft asked for (it compacted only what was applied).
   */
  private sendSnapshot(m: Message): void {
    const report = (reject: boolean, index = 0): void => {
      if (this.halted) return;
      this.inbox.push(() => this.raft!.step(message(MessageType.SnapStatus, m.to, this.id, { reject, index })));
      this.kick();
    };
    let snap: StateMachineSnapshot;
    try {
      snap = this.options.stateMachine.snapshot();
    } catch (err) {
      this.logger.warn({ to: m.to, error: String(err) }, 'snapshot to send could not be taken');
      report(true);
      return;
    }
    const asked = m.snapshot?.index ?? 0;
    if (snap.index !== this.applied || snap.index < asked || (snap.term !== undefined && snap.term !== this.appliedTerm)) {
      snap.release();
      this.logger.warn({ to: m.to, index: snap.index, applied: this.applied, asked }, 'snapshot to send is not at the applied index');
      report(true);
      return;
    }
    const meta: SnapshotMeta = { index: snap.index, term: this.appliedTerm, confState: this.confState };
    void (async () => {
      try {
        await this.options.ports.transport.sendSnapshot({ ...m, snapshot: meta }, snap.data);
      } finally {
        snap.release();
      }
      this.logger.debug({ to: m.to, index: meta.index, term: meta.term }, 'snapshot sent');
      report(false, meta.index);
    })().catch((err: unknown) => {
      this.logger.warn({ to: m.to, index: meta.index, error: String(err) }, 'snapshot send failed');
      report(true);
    });
  }

  /** Make the log start at the snapshot: keep entries after it only when they follow it (same term at its index). */
  private async alignLogWith(meta: SnapshotMeta): Promise<void> {
    const { logStore } = this.options.ports;
    const term = await logStore.term(meta.index);
    if (term !== meta.term && logStore.lastIndex() >= logStore.firstIndex()) {
      await logStore.truncateFrom(logStore.firstIndex());
    }
    if (meta.index > logStore.firstIndex() - 1 || term !== meta.term) await logStore.compactTo(meta.index, meta.term);
  }

  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const { snapshotStore } = this.options.ports;
    const stored = await snapshotStore.latest();
    if (stored === undefined || stored.meta.index !== meta.index || stored.meta.term !== meta.term) {
      throw new Error(`snapshot ${meta.term}/${meta.index} to install is not the latest stored (${stored?.meta.term}/${stored?.meta.index})`);
    }
    await this.options.stateMachine.restore(meta, stored.read());
    if (this.halted) return;
    await this.alignLogWith(meta);
    this.applied = meta.index;
    this.appliedTerm = meta.term;
    this.snapshotIndex = meta.index;
    this.confState = meta.confState;
    this.addRecordedPeers();
    this.addMembersToPeers(meta.confState);
    this.options.ports.transport.setPeers(this.peerTable);
    this.logger.info({ index: meta.index, term: meta.term }, 'installed snapshot');
  }

  private async applyEntry(entry: Entry): Promise<void> {
    if (entry.index <= this.applied) return;
    const sm = this.options.stateMachine;
    if (entry.type === EntryType.ConfChange) {
      await this.applyConfChangeEntry(entry);
    } else if (entry.data.length === 0) {
      await sm.skip(entry.index);
    } else {
      const envelope = decodeEnvelope(entry.data);
      const mine = envelope.member === this.id && envelope.incarnation === this.incarnation;
      const waiter = mine ? this.proposals.get(envelope.sequence) : undefined;
      if (waiter !== undefined) this.proposals.delete(envelope.sequence);
      let result: unknown;
      try {
        result = await sm.apply(entry.index, envelope.payload);
      } catch (err) {
        waiter?.timer.cancel();
        waiter?.reject(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      waiter?.timer.cancel();
      waiter?.resolve(result);
    }
    this.applied = entry.index;
    this.appliedTerm = entry.term;
  }

  private async applyConfChangeEntry(entry: Entry): Promise<void> {
    const change = decodeConfChange(entry.data);
    const { stableStore, transport } = this.options.ports;
    // After a restart the newest change may be replayed; applying it again must change nothing.
    if (!this.alreadyApplied(change)) this.confState = this.raft!.applyConfChange(change);
    if (change.type === ConfChangeType.RemoveMember) {
      if (change.memberId !== this.id) this.peerTable.delete(change.memberId);
    } else if (change.type !== ConfChangeType.PromoteLearner || !this.peerTable.has(change.memberId)) {
      const urls = (this.options.peerUrlsOf ?? peerUrlsOfChange)(change);
      // An update without URLs, or a promote of a member we know, keeps the URLs we have.
      if (urls.length > 0 || !this.peerTable.has(change.memberId)) this.peerTable.set(change.memberId, urls);
    }
    transport.setPeers(this.peerTable);
    // Membership is durable before the state machine records the entry as applied, so a crash
    // in between replays only this change.
    await stableStore.save(this.stableState());
    if (this.halted) return;
    const sm = this.options.stateMachine;
    if (sm.applyConfChange !== undefined) await sm.applyConfChange(entry.index, change);
    else await sm.skip(entry.index);
    await this.options.stateMachine.flush();
    this.logger.info({ change: ConfChangeType[change.type], member: change.memberId, voters: this.confState.voters, learners: this.confState.learners }, 'applied membership change');
    for (let i = 0; i < this.confChanges.length; i++) {
      const c = this.confChanges[i]!;
      if (sameConfChange(c.change, change)) {
        this.confChanges.splice(i, 1);
        c.waiter.timer.cancel();
        c.waiter.resolve(this.confState);
        break;
      }
    }
    if (change.type === ConfChangeType.RemoveMember && change.memberId === this.id) {
      for (const listener of this.removedListeners) listener();
    }
  }

  private alreadyApplied(change: ConfChange): boolean {
    const { voters, learners } = this.confState;
    switch (change.type) {
      case ConfChangeType.AddVoter:
      case ConfChangeType.PromoteLearner:
        return voters.includes(change.memberId);
      case ConfChangeType.AddLearner:
        return learners.includes(change.memberId);
      case ConfChangeType.RemoveMember:
        return !voters.includes(change.memberId) && !learners.includes(change.memberId);
      case ConfChangeType.UpdateMember:
        return false;
    }
  }

  /**
   * Compact the log behind the applied index without copying the state: the state machine is the
   * durable state, so it is flushed first (a restart then finds it at or past the log's start,
   * also after a crash before the log is compacted), then Raft and the LogStore drop entries up to
   * `applied - catchUpEntries`. The LogStore remembers the compaction point's index and term, the
   * StableStore the membership: nothing is written to the SnapshotStore.
   */
  private async compactLog(): Promise<void> {
    // An inbound snapshot awaits install; installing it moves the compaction point anyway.
    if (this.snapshotPending) return;
    const { logStore } = this.options.ports;
    const meta: SnapshotMeta = { index: this.applied, term: this.appliedTerm, confState: this.confState };
    await this.options.stateMachine.flush();
    if (this.halted) return;
    this.snapshotIndex = Math.max(this.snapshotIndex, meta.index);
    this.logger.debug({ index: meta.index, term: meta.term }, 'state machine flushed; compacting the log');
    // After advance: Raft may compact only what advance() has seen applied.
    this.afterAdvance.push(async () => {
      this.raft!.compact(meta);
      const keepFrom = meta.index - this.catchUpEntries;
      if (keepFrom > logStore.firstIndex() - 1) {
        const term = await logStore.term(keepFrom);
        if (term !== undefined && !this.halted) await logStore.compactTo(keepFrom, term);
      }
    });
  }

  private settleReads(): void {
    for (let i = 0; i < this.readsAwaitingApply.length;) {
      const r = this.readsAwaitingApply[i]!;
      if (r.index <= this.applied) {
        this.readsAwaitingApply.splice(i, 1);
        const waiter = this.reads.get(r.key);
        if (waiter !== undefined) {
          this.reads.delete(r.key);
          waiter.timer.cancel();
          waiter.resolve(r.index);
        }
      } else {
        i++;
      }
    }
  }

  // ---- helpers ----

  private bootstrapContext(member: MemberId): Uint8Array {
    const urls = this.options.peers.get(member) ?? [];
    if (this.options.bootstrapContext !== undefined) return this.options.bootstrapContext(member, urls);
    return memberChangeContext(urls);
  }

  private stableState(): StableState {
    return { hardState: this.hardState, confState: this.confState, clusterId: this.clusterId, memberId: this.id };
  }

  /** Peer URLs the state machine recorded (members added at runtime, updated URLs) win over the configuration's. */
  private addRecordedPeers(): void {
    const recorded = this.options.stateMachine.memberPeerUrls?.();
    if (recorded === undefined) return;
    for (const [member, urls] of recorded) if (urls.length > 0 && member !== this.id) this.peerTable.set(member, urls);
  }

  /** A joining member takes the cluster ID of the first peer that reached it; it is saved with the next Ready. */
  private learnClusterId(id: string): void {
    if (this.clusterId !== '' || id === '') return;
    this.clusterId = id;
    this.identityUnsaved = true;
    this.logger.info({ cluster: id }, 'joined cluster');
    this.kick();
  }

  private addMembersToPeers(conf: ConfState): void {
    for (const m of [...conf.voters, ...conf.learners]) {
      if (!this.peerTable.has(m)) this.peerTable.set(m, []);
    }
  }

  private acceptsCalls(reject: (error: Error) => void): boolean {
    if (this.halted || this.raft === undefined) {
      const error = EtcdErrors.stopped();
      notSubmitted.add(error);
      reject(error);
      return false;
    }
    return true;
  }

  /** A call Raft refused outright: no leader (or a transfer under way). */
  private refuse<K>(waiters: Map<K, Waiter<never> | Waiter<unknown> | Waiter<number>>, key: K): void {
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    waiters.delete(key);
    waiter.timer.cancel();
    const error = this.raft!.status().leader === NO_MEMBER ? EtcdErrors.noLeader() : EtcdErrors.leaderChanged();
    notSubmitted.add(error);
    waiter.reject(error);
  }

  private expire<K>(waiters: Map<K, Waiter<unknown> | Waiter<number>>, key: K): void {
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    waiters.delete(key);
    waiter.reject(this.leader === NO_MEMBER ? EtcdErrors.noLeader() : EtcdErrors.timeout());
  }

  private allWaiters(): Waiter<never>[] {
    return [
      ...this.proposals.values(),
      ...this.reads.values(),
      ...this.confChanges.map((c) => c.waiter),
      ...this.transfers.map((t) => t.waiter),
    ] as Waiter<never>[];
  }

  private clearWaiters(): void {
    this.proposals.clear();
    this.reads.clear();
    this.readsAwaitingApply.length = 0;
    this.confChanges.length = 0;
    this.transfers.length = 0;
  }

  private fail(error: Error): void {
    if (this.halted) return;
    this.fatalError = error;
    this.logger.error({ error: error.message, stack: error.stack }, 'raft node halted on an unrecoverable error');
    this.halt();
    for (const listener of this.fatalListeners) listener(error);
  }
}
