import type { Clock } from '../ports/clock.js';
import type { Deferral } from '../ports/deferral.js';
import type { DiskLatency } from '../ports/disk-latency.js';
import type { LogStore } from '../ports/log-store.js';
import type { Logger } from '../ports/logger.js';
import type { StableStore } from '../ports/stable-store.js';
import type { Transport } from '../ports/transport.js';
import { MessageType, NO_MEMBER, Role, type MemberId, type Message, type Ready, type SnapshotMeta } from '../protocol/raft-types.js';
import type { RaftCore } from './core-api.js';
import type { EntryApplier } from './entry-applier.js';
import type { NodeState } from './node-state.js';
import type { SnapshotTransfer } from './snapshot-transfer.js';
import type { StateMachine } from './state-machine.js';
import type { WaitingCalls } from './waiting-calls.js';
import { durably } from './durability-error.js';

const decoder = new TextDecoder();

export interface ReadyHandlerPorts {
  readonly transport: Transport;
  readonly logStore: LogStore;
  readonly stableStore: StableStore;
  readonly stateMachine: StateMachine;
  readonly deferral: Deferral;
  readonly clock: Clock;
  /** Told how long each log append took, when metrics are wanted. */
  readonly diskLatency?: DiskLatency;
}

export interface ReadyHandlerParts {
  readonly snapshots: SnapshotTransfer;
  readonly entries: EntryApplier;
  readonly calls: WaitingCalls;
  readonly raft: () => RaftCore;
  /** The leader this member knows of changed. */
  readonly leaderChanged: (leader: MemberId, term: number) => void;
}

/**
 * Turns one Ready into I/O through the ports, in the order the Ready contract prescribes: send
 * what may go before the disk write, persist the snapshot, entries and hard state, send the rest,
 * apply committed entries, answer reads, and compact the log every `snapshotCount` entries.
 */
export class ReadyHandler {
  /** Work that may run only once Raft has seen the Ready advanced. */
  private readonly afterAdvance: (() => Promise<void>)[] = [];

  constructor(
    private readonly state: NodeState,
    private readonly ports: ReadyHandlerPorts,
    private readonly parts: ReadyHandlerParts,
    private readonly logger: Logger,
    private readonly snapshotCount: number,
    private readonly catchUpEntries: number,
    /** Test only: the planted bug `ackAfterFailedSync` (see PlantedBugs). */
    private readonly ackAfterFailedSync = false,
  ) {}

  async handle(rd: Ready): Promise<void> {
    const { state, parts } = this;
    const { stableStore } = this.ports;
    if (rd.softState !== undefined) this.noteSoftState(rd.softState.leader, rd.softState.role);
    if (this.send(rd.messagesBeforePersist) && rd.entries.length > 0) {
      // A log store may sync on this thread (the WAL does for a lone entry): let the transport's
      // flush of this turn (it batches per turn) go first, so the leader's sync overlaps the
      // followers' instead of delaying their appends by it.
      await this.nextTurn();
      if (state.halted) return;
    }
    let stableDirty = false;
    if (rd.snapshot !== undefined) {
      await parts.snapshots.install(rd.snapshot);
      if (state.halted) return;
      stableDirty = true;
    }
    if (rd.hardState !== undefined) {
      // Term and vote must be durable before anything is sent that depends on them. The commit
      // index need not be (a restart relearns it, and starts from the applied index at least), so
      // a Ready that only moved it costs no sync, as in etcd.
      if (rd.hardState.term !== state.hardState.term || rd.hardState.vote !== state.hardState.vote) stableDirty = true;
      state.hardState = rd.hardState;
    }
    const writes: Promise<void>[] = [];
    if (rd.entries.length > 0) writes.push(this.append(rd.entries));
    if (state.identityUnsaved) {
      state.identityUnsaved = false;
      stableDirty = true;
    }
    if (stableDirty) writes.push(durably(() => 'saving the stable state (term, vote, membership)', stableStore.save(state.stableState())));
    if (writes.length > 0) await Promise.all(writes);
    if (state.halted) return;
    this.send(rd.messages);
    for (const entry of rd.committedEntries) {
      await parts.entries.apply(entry);
      if (state.halted) return;
    }
    for (const rs of rd.readStates) parts.calls.readIndexed(rs.index, decoder.decode(rs.context));
    parts.calls.settleReads(state.applied);
    if (state.applied - state.snapshotIndex >= this.snapshotCount) await this.compactLog();
  }

  /** Raft has seen the last Ready advanced: run what waited for that. */
  async advanced(): Promise<void> {
    while (this.afterAdvance.length > 0 && !this.state.halted) await this.afterAdvance.shift()!();
  }

  private noteSoftState(leader: MemberId, role: Role): void {
    const state = this.state;
    const becameLeader = role === Role.Leader && state.role !== Role.Leader;
    state.role = role;
    if (becameLeader) this.logger.info({ term: this.parts.raft().status().term }, 'became leader');
    if (leader === state.leader) return;
    state.leader = leader;
    const term = this.parts.raft().status().term;
    if (leader !== NO_MEMBER && !becameLeader) this.logger.info({ leader, term }, 'leader changed');
    this.parts.calls.leaderIs(leader);
    this.parts.leaderChanged(leader, term);
  }

  /** LogStore.append, timed when a DiskLatency listens: each resolved append is one sync (etcd's WAL fsync histogram). */
  private append(entries: Ready['entries']): Promise<void> {
    const { logStore, clock, diskLatency } = this.ports;
    const what = (): string => `the Raft log append of entries ${entries[0]!.index}..${entries[entries.length - 1]!.index}`;
    const appended = this.ackAfterFailedSync
      ? logStore.append(entries).catch((err: unknown) => this.logger.warn({ error: String(err) }, 'planted bug: log append failed, carrying on'))
      : logStore.append(entries);
    if (diskLatency === undefined) return durably(what, appended);
    const started = clock.now();
    return durably(what, appended).then(() => diskLatency.logSynced((clock.now() - started) / 1000));
  }

  /** Resolves at the end of this turn of the event loop, after what was scheduled before it. */
  private nextTurn(): Promise<void> {
    return new Promise((resolve) => this.ports.deferral.defer(resolve));
  }

  /** Hands `messages` to the transport (snapshots to their stream); true when any went to a peer. */
  private send(messages: readonly Message[]): boolean {
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.to === this.state.id) continue;
      if (m.type === MessageType.Snap) this.parts.snapshots.send(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.ports.transport.send(plain);
    return plain.length > 0;
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
    if (this.parts.snapshots.installPending) return;
    const { state } = this;
    const { logStore } = this.ports;
    const meta: SnapshotMeta = { index: state.applied, term: state.appliedTerm, confState: state.confState };
    await this.ports.stateMachine.flush();
    if (state.halted) return;
    state.snapshotIndex = Math.max(state.snapshotIndex, meta.index);
    this.logger.debug({ index: meta.index, term: meta.term }, 'state machine flushed; compacting the log');
    // After advance: Raft may compact only what advance() has seen applied.
    this.afterAdvance.push(async () => {
      this.parts.raft().compact(meta);
      const keepFrom = meta.index - this.catchUpEntries;
      if (keepFrom > logStore.firstIndex() - 1) {
        const term = await logStore.term(keepFrom);
        if (term !== undefined && !state.halted) await logStore.compactTo(keepFrom, term);
      }
    });
  }
}
