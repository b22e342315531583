import { inject, injectable, optional } from 'inversify';
import { EtcdErrors } from '../api/errors.js';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { DEFERRAL, type Deferral } from '../ports/deferral.js';
import { DISK_LATENCY, type DiskLatency } from '../ports/disk-latency.js';
import { LOG_STORE, type LogStore } from '../ports/log-store.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { RANDOM, type Random } from '../ports/random.js';
import { SNAPSHOT_STORE, type SnapshotStore } from '../ports/snapshot-store.js';
import { STABLE_STORE, type StableStore } from '../ports/stable-store.js';
import { TRANSPORT, type Transport, type TransportHandler } from '../ports/transport.js';
import { MessageType, NO_MEMBER, Role, type ConfChange, type ConfState, type MemberId, type Message } from '../protocol/raft-types.js';
import { peerUrlsOfContext } from './conf-change.js';
import type { ConfChangeGuard, Consensus, LeaderChangeListener } from './consensus.js';
import type { RaftCore, RaftStatus } from './core-api.js';
import { EntryApplier } from './entry-applier.js';
import { LeaderRequests, type LeaderRequestHandler } from './leader-requests.js';
import { RAFT_NODE_CONFIG, raftConfigOf, type RaftNodeConfig } from './node-config.js';
import { recoverNode } from './node-recovery.js';
import { NodeState } from './node-state.js';
import { PeerTable } from './peer-table.js';
import { encodeEnvelope } from './proposal-envelope.js';
import { createRaft } from './raft.js';
import { ReadyHandler } from './ready-handler.js';
import { SnapshotTransfer } from './snapshot-transfer.js';
import { STATE_MACHINE, type StateMachine } from './state-machine.js';
import { notSubmittedError, WaitingCalls } from './waiting-calls.js';

export { wasNotSubmitted } from './waiting-calls.js';
export type { LeaderChangeListener } from './consensus.js';

/**
 * Runs one Raft member: feeds the pure core ticks, messages and proposals, and turns each Ready
 * into I/O through the ports in the order the Ready contract prescribes. Everything it does is
 * serialized in one loop; inputs that arrive while a Ready is being handled wait for advance().
 * Its parts: node-recovery.ts (start from storage), waiting-calls.ts (what callers wait for),
 * ready-handler.ts (a Ready's I/O), entry-applier.ts, snapshot-transfer.ts and peer-table.ts.
 */
@injectable()
export class RaftNode implements Consensus {
  readonly id: MemberId;
  /** Set when the loop hit an error it cannot recover from; the node has halted. */
  fatalError: Error | undefined;

  private raft: RaftCore | undefined;
  private readonly state: NodeState;
  private readonly inbox: (() => void)[] = [];
  private pendingTicks = 0;
  private running = false;
  private scheduled = false;
  private started = false;
  private tickTimer: TimerHandle | undefined;
  /** Numbers this run's proposals and reads. */
  private sequence = 0;

  private readonly logger: Logger;
  private readonly tickMs: number;
  private readonly calls: WaitingCalls;
  private readonly peers: PeerTable;
  private readonly snapshots: SnapshotTransfer;
  private readonly ready: ReadyHandler;
  private readonly leaderRequests: LeaderRequests;
  private readonly leaderListeners: LeaderChangeListener[] = [];
  private readonly removedListeners: (() => void)[] = [];
  private readonly fatalListeners: ((error: Error) => void)[] = [];
  /** A lone voter that has not campaigned yet (see campaignWhenAlone). */
  private campaignAlone = false;
  /** Removed members whose messages were refused (each logged once). */
  private readonly refusedRemoved = new Set<MemberId>();

  constructor(
    @inject(RAFT_NODE_CONFIG) private readonly config: RaftNodeConfig,
    @inject(STATE_MACHINE) private readonly stateMachine: StateMachine,
    @inject(TRANSPORT) private readonly transport: Transport,
    @inject(LOG_STORE) private readonly logStore: LogStore,
    @inject(STABLE_STORE) private readonly stableStore: StableStore,
    @inject(SNAPSHOT_STORE) private readonly snapshotStore: SnapshotStore,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(RANDOM) private readonly random: Random,
    @inject(DEFERRAL) private readonly deferral: Deferral,
    @inject(DISK_LATENCY) @optional() diskLatency?: DiskLatency,
  ) {
    this.id = config.id;
    this.state = new NodeState(config.id);
    this.logger = logger.child({ member: config.id });
    this.tickMs = config.tickMs ?? 100;
    this.calls = new WaitingCalls(clock, config.requestTimeoutMs ?? 7_000, () => this.state.leader);
    this.peers = new PeerTable(config.id, transport, stateMachine, config.peerUrlsOf ?? ((change) => peerUrlsOfContext(change.context)));
    this.snapshots = new SnapshotTransfer(
      this.state,
      { transport, snapshotStore, logStore, stateMachine },
      this.peers,
      this.logger,
      () => this.raft,
      (work) => this.enqueue(work),
    );
    const entries = new EntryApplier(
      this.state,
      stateMachine,
      stableStore,
      this.peers,
      this.calls,
      this.logger,
      () => this.raft!,
      () => {
        for (const listener of this.removedListeners) listener();
      },
    );
    this.ready = new ReadyHandler(
      this.state,
      { transport, logStore, stableStore, stateMachine, deferral, clock, ...(diskLatency === undefined ? {} : { diskLatency }) },
      {
        snapshots: this.snapshots,
        entries,
        calls: this.calls,
        raft: () => this.raft!,
        leaderChanged: (leader, term) => {
          for (const listener of this.leaderListeners) listener(leader, term);
        },
      },
      this.logger,
      config.snapshotCount ?? 10_000,
      config.snapshotCatchUpEntries ?? 5_000,
      config.raft?.bugs?.ackAfterFailedSync === true,
    );
    this.leaderRequests = new LeaderRequests(
      () => this.id,
      () => this.state.leader,
      () => this.state.hardState.term,
      (m) => {
        if (!this.state.halted) this.transport.send([m]);
      },
      clock,
    );
  }

  /** Load durable state, restore the state machine if it is behind the latest snapshot, build Raft, start ticking and the transport. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`member ${this.id} already started`);
    this.started = true;
    const { stateMachine, logStore, stableStore, snapshotStore } = this;
    const initial = await recoverNode(this.state, this.config, { stateMachine, logStore, stableStore, snapshotStore }, this.logger);
    if (this.state.halted) return;
    this.raft = (this.config.createRaft ?? createRaft)(raftConfigOf(this.config, this.random), initial);
    this.state.incarnation = this.random.int(0, 0x1_0000_0000);

    this.peers.addConfigured(this.config.peers);
    this.peers.addRecorded();
    this.peers.addMembers(this.state.confState);
    const handler: TransportHandler = {
      onMessage: (m) => this.receive(m),
      onSnapshot: (m, data) => this.snapshots.receive(m, data),
      onClusterId: (id) => this.learnClusterId(id),
    };
    await this.transport.start(this.id, handler, this.state.clusterId);
    if (this.state.halted) {
      await this.transport.stop();
      return;
    }
    this.peers.publish();
    this.tickTimer = this.clock.setInterval(() => {
      this.pendingTicks++;
      this.kick();
    }, this.tickMs);
    const { voters, learners } = this.state.confState;
    // A lone voter has nobody to wait for: it campaigns at once instead of after an election timeout.
    this.campaignAlone = voters.length === 1 && voters[0] === this.id && learners.length === 0;
    const { term, commit } = this.state.hardState;
    this.logger.info({ term, commit, applied: initial.applied, snapshot: initial.snapshot?.index ?? 0 }, 'raft node started');
    this.kick();
  }

  /** Stop ticking and the transport; calls still waiting fail with etcd's "server stopped". */
  async stop(): Promise<void> {
    if (!this.state.halted) this.halt();
    await this.transport.stop();
  }

  /**
   * Stop dead at once, as a crash would: no further I/O is issued and nothing pending completes.
   * The simulator calls this before discarding what the member's disk had not made durable.
   * Calls still waiting fail with etcd's "server stopped" (a proposal among them may yet commit).
   */
  halt(): void {
    if (this.state.halted) return;
    this.state.halted = true;
    this.tickTimer?.cancel();
    this.leaderRequests.failAll(EtcdErrors.stopped());
    this.calls.rejectAll(() => EtcdErrors.stopped());
    void this.transport.stop();
  }

  get isHalted(): boolean {
    return this.state.halted;
  }

  /**
   * Propose `payload` and resolve with what the state machine's apply returned for it, once it is
   * applied on this member. Rejects with etcd's errors: "no leader" at once when no leader is
   * known, "request timed out" when it was not applied in time (it may still be applied later).
   */
  propose(payload: Uint8Array): Promise<unknown> {
    const sequence = ++this.sequence;
    const refused = this.refusedWhenStopped();
    if (refused !== undefined) return refused;
    const applied = this.calls.proposal(sequence);
    this.enqueue(() => {
      if (!this.calls.proposals.has(sequence)) return;
      const data = encodeEnvelope({ member: this.id, incarnation: this.state.incarnation, sequence, payload });
      if (!this.raft!.propose(data)) this.calls.refuse(this.calls.proposals, sequence, () => this.refusal());
    });
    return applied;
  }

  /** A linearizable read barrier: resolves (with the read index) once this member has applied everything committed before the call. */
  readIndex(): Promise<number> {
    const key = `${this.state.incarnation}:${++this.sequence}`;
    const refused = this.refusedWhenStopped();
    if (refused !== undefined) return refused;
    const read = this.calls.read(key);
    this.enqueue(() => {
      if (!this.calls.reads.has(key)) return;
      if (this.raft!.status().leader === NO_MEMBER) {
        this.calls.refuse(this.calls.reads, key, () => this.refusal());
        return;
      }
      this.raft!.readIndex(new TextEncoder().encode(key));
    });
    return read;
  }

  /**
   * Propose a membership change; resolves with the new membership once it is applied here.
   * `guard` runs in the loop right before the change goes to Raft, on the status of that moment
   * (no leader change can come between): an Error it returns refuses the call instead.
   */
  proposeConfChange(change: ConfChange, guard?: ConfChangeGuard): Promise<ConfState> {
    const refused = this.refusedWhenStopped();
    if (refused !== undefined) return refused;
    const key = this.calls.nextKey();
    const applied = this.calls.confChange(key, change);
    this.enqueue(() => {
      if (!this.calls.confChanges.has(key)) return;
      const refusal = guard?.(this.raft!.status());
      if (refusal !== undefined) {
        this.calls.refuse(this.calls.confChanges, key, () => refusal);
        return;
      }
      if (!this.raft!.proposeConfChange(change)) {
        this.calls.refuse(this.calls.confChanges, key, () =>
          this.raft!.status().leader === NO_MEMBER ? EtcdErrors.noLeader() : new Error('raft proposal dropped'),
        );
      }
    });
    return applied;
  }

  /** Ask the leader to hand leadership to `to`; resolves when this member sees `to` lead. */
  transferLeadership(to: MemberId): Promise<void> {
    const refused = this.refusedWhenStopped();
    if (refused !== undefined) return refused;
    const led = this.calls.transfer(this.calls.nextKey(), to);
    this.enqueue(() => this.raft!.transferLeadership(to));
    return led;
  }

  /** The cluster ID (16 hex digits); '' while a joining member has not heard from the cluster. */
  cluster(): string {
    return this.state.clusterId;
  }

  status(): RaftStatus {
    if (this.raft === undefined) throw new Error(`member ${this.id} is not started`);
    return this.raft.status();
  }

  term(): number {
    return this.state.hardState.term;
  }

  /** What this member has applied to its state machine. */
  appliedIndex(): number {
    return this.state.applied;
  }

  /** Proposals of this member waiting to be applied, and those that failed (timed out, refused, dropped at stop) since start: etcd's proposal metrics. */
  proposalCounts(): { readonly pending: number; readonly failed: number } {
    return { pending: this.calls.proposals.size, failed: this.calls.proposals.failures };
  }

  /** The leader this member knows of (NO_MEMBER when none). */
  currentLeader(): MemberId {
    return this.state.leader;
  }

  /** Peer URLs of every member this node knows of (founders and applied membership changes). */
  peerUrls(): ReadonlyMap<MemberId, readonly string[]> {
    return this.peers.copy();
  }

  /** The membership as this member has applied it. */
  membership(): ConfState {
    return this.state.confState;
  }

  /**
   * Ask the leader, outside the log (see LeaderRequests): for what needs the leader's answer but
   * changes no replicated state. Rejects with LeaderRequestError when this member leads or knows
   * no leader, the leader refuses, or no answer comes within `timeoutMs` (an election timeout).
   */
  askLeader(kind: string, payload: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    if (this.state.halted) return Promise.reject(EtcdErrors.stopped());
    return this.leaderRequests.ask(kind, payload, timeoutMs ?? this.tickMs * (this.config.raft?.electionTick ?? 10));
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

  /** Run `work` in the loop, before the next Ready. */
  private enqueue(work: () => void): void {
    this.inbox.push(work);
    this.kick();
  }

  private receive(m: Message): void {
    if (this.state.halted || this.raft === undefined) return;
    if (m.from !== this.id && this.peers.wasRemoved(m.from)) {
      this.refuseRemoved(m.from);
      return;
    }
    if (this.leaderRequests.receive(m)) return;
    // A Snap message travels only with its data, through onSnapshot.
    if (m.type === MessageType.Snap) return;
    this.enqueue(() => this.raft!.step(m));
  }

  /**
   * Raft campaigns only once every committed membership change is applied (it may change who
   * votes): a lone voter whose log holds such entries not yet applied (the bootstrap entries of a
   * fresh member, or those a crash left unapplied) asks again after each Ready until it ran.
   */
  private campaignWhenAlone(raft: RaftCore): void {
    const { role, leader, confState } = raft.status();
    if (leader !== NO_MEMBER || role !== Role.Follower || confState.voters.length !== 1 || confState.voters[0] !== this.id) {
      this.campaignAlone = false;
      return;
    }
    raft.campaign();
    if (raft.status().role !== Role.Follower) this.campaignAlone = false;
  }

  /** etcd's peers refuse a removed member's traffic (it may not know it was removed); logged once per member. */
  private refuseRemoved(from: MemberId): void {
    if (this.refusedRemoved.has(from)) return;
    this.refusedRemoved.add(from);
    this.logger.warn({ from }, 'refused messages from a removed member');
  }

  private kick(): void {
    if (this.state.halted || this.scheduled || this.running || this.raft === undefined) return;
    this.scheduled = true;
    this.deferral.defer(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.state.halted) return;
    this.running = true;
    const raft = this.raft!;
    try {
      for (;;) {
        while (this.inbox.length > 0 && !this.state.halted) this.inbox.shift()!();
        while (this.pendingTicks > 0 && !this.state.halted) {
          this.pendingTicks--;
          raft.tick();
        }
        if (this.campaignAlone) this.campaignWhenAlone(raft);
        if (this.state.halted || !raft.hasReady()) {
          this.snapshots.settled();
          break;
        }
        const rd = raft.ready();
        await this.ready.handle(rd);
        if (this.state.halted) return;
        raft.advance(rd);
        this.snapshots.settled();
        await this.ready.advanced();
        if (this.state.halted) return;
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.running = false;
    }
    if (!this.state.halted && (this.inbox.length > 0 || this.pendingTicks > 0)) this.kick();
  }

  /** A joining member takes the cluster ID of the first peer that reached it; it is saved with the next Ready. */
  private learnClusterId(id: string): void {
    if (this.state.clusterId !== '' || id === '') return;
    this.state.clusterId = id;
    this.state.identityUnsaved = true;
    this.logger.info({ cluster: id }, 'joined cluster');
    this.kick();
  }

  /** Calls made before start or after a halt fail at once, certainly without effect. */
  private refusedWhenStopped(): Promise<never> | undefined {
    if (!this.state.halted && this.raft !== undefined) return undefined;
    return Promise.reject(notSubmittedError(EtcdErrors.stopped()));
  }

  /** Why Raft refused a call outright: no leader, or a transfer under way. */
  private refusal(): Error {
    return this.raft!.status().leader === NO_MEMBER ? EtcdErrors.noLeader() : EtcdErrors.leaderChanged();
  }

  private fail(error: Error): void {
    if (this.state.halted) return;
    this.fatalError = error;
    this.logger.error({ error: error.message, stack: error.stack }, 'raft node halted on an unrecoverable error');
    this.halt();
    for (const listener of this.fatalListeners) listener(error);
  }
}
