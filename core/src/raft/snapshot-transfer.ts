import type { LogStore } from '../ports/log-store.js';
import type { Logger } from '../ports/logger.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { Transport } from '../ports/transport.js';
import { message } from '../protocol/message.js';
import { MessageType, type Message, type SnapshotMeta } from '../protocol/raft-types.js';
import type { RaftCore } from './core-api.js';
import { alignLogWith } from './node-recovery.js';
import type { NodeState } from './node-state.js';
import type { PeerTable } from './peer-table.js';
import type { StateMachine, StateMachineSnapshot } from './state-machine.js';

export interface SnapshotTransferPorts {
  readonly transport: Transport;
  readonly snapshotStore: SnapshotStore;
  readonly logStore: LogStore;
  readonly stateMachine: StateMachine;
}

/**
 * Snapshots between members. Out: the state machine as it is now, streamed to a follower that
 * needs entries compacted away. In: a streamed snapshot is stored, its Snap message stepped into
 * Raft, and the snapshot installed when a Ready says so; one at a time.
 */
export class SnapshotTransfer {
  /** An inbound snapshot is stored and its Snap message not yet through a Ready: refuse others meanwhile. */
  private inboundPending = false;
  private inboundStepped = false;

  constructor(
    private readonly state: NodeState,
    private readonly ports: SnapshotTransferPorts,
    private readonly peers: PeerTable,
    private readonly logger: Logger,
    private readonly raft: () => RaftCore | undefined,
    /** Run `work` in the node's loop, before its next Ready. */
    private readonly enqueue: (work: () => void) => void,
  ) {}

  /** An inbound snapshot is stored and waits to be installed. */
  get installPending(): boolean {
    return this.inboundPending;
  }

  /**
   * Stream the state machine as it is now to `m.to` (etcd's "merged snapshot"): Raft asked for a
   * snapshot because the follower needs entries compacted away, and the state machine is the only
   * copy of them. Called between Readys, when nothing is being applied, so the state pinned here is
   * at the applied index, with its term and the membership; the message is rewritten to say so.
   * That index is at or past the one Raft asked for (it compacted only what was applied).
   */
  send(m: Message): void {
    const report = (reject: boolean, index = 0): void => {
      if (this.state.halted) return;
      this.enqueue(() => this.raft()!.step(message(MessageType.SnapStatus, m.to, this.state.id, { reject, index })));
    };
    let snap: StateMachineSnapshot;
    try {
      snap = this.ports.stateMachine.snapshot();
    } catch (err) {
      this.logger.warn({ to: m.to, error: String(err) }, 'snapshot to send could not be taken');
      report(true);
      return;
    }
    const asked = m.snapshot?.index ?? 0;
    const { applied, appliedTerm } = this.state;
    if (snap.index !== applied || snap.index < asked || (snap.term !== undefined && snap.term !== appliedTerm)) {
      snap.release();
      this.logger.warn({ to: m.to, index: snap.index, applied, asked }, 'snapshot to send is not at the applied index');
      report(true);
      return;
    }
    const meta: SnapshotMeta = { index: snap.index, term: appliedTerm, confState: this.state.confState };
    void (async () => {
      try {
        await this.ports.transport.sendSnapshot({ ...m, snapshot: meta }, snap.data);
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

  /** A snapshot streamed in: store it, then let Raft step its Snap message. Resolves once it is stored. */
  async receive(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const raft = this.raft();
    if (this.state.halted || raft === undefined) throw new Error(`member ${this.state.id} is stopped`);
    const meta = m.snapshot;
    if (meta === undefined) throw new Error('snapshot message without metadata');
    // Already applied, or from a deposed leader's term (Raft will ignore it): never store it, so
    // it cannot become the latest snapshot ahead of one this member must install.
    if (meta.index <= this.state.applied || m.term < raft.status().term) {
      for await (const _ of data) {
        /* drain it */
      }
      this.enqueue(() => this.raft()!.step(m));
      return;
    }
    // The one being installed must stay the latest stored until its Ready is handled. (Only
    // inbound snapshots are ever saved, so nothing else can take its place meanwhile.)
    if (this.inboundPending) throw new Error(`member ${this.state.id} is installing another snapshot`);
    this.inboundPending = true;
    try {
      await this.ports.snapshotStore.save(meta, data);
    } catch (err) {
      this.inboundPending = false;
      throw err;
    }
    if (this.state.halted) throw new Error(`member ${this.state.id} is stopped`);
    this.enqueue(() => {
      this.raft()!.step(m);
      this.inboundStepped = true;
    });
  }

  /** A Ready was handled: a stepped inbound snapshot has been through it (installed, or ignored by Raft). */
  settled(): void {
    if (!this.inboundStepped) return;
    this.inboundStepped = false;
    this.inboundPending = false;
  }

  /** Install the stored snapshot a Ready names: restore the state machine, and start the log after it. */
  async install(meta: SnapshotMeta): Promise<void> {
    const stored = await this.ports.snapshotStore.latest();
    if (stored === undefined || stored.meta.index !== meta.index || stored.meta.term !== meta.term) {
      throw new Error(`snapshot ${meta.term}/${meta.index} to install is not the latest stored (${stored?.meta.term}/${stored?.meta.index})`);
    }
    await this.ports.stateMachine.restore(meta, stored.read());
    if (this.state.halted) return;
    await alignLogWith(this.ports.logStore, meta);
    this.state.applied = meta.index;
    this.state.appliedTerm = meta.term;
    this.state.snapshotIndex = meta.index;
    this.state.confState = meta.confState;
    this.peers.addRecorded();
    this.peers.addMembers(meta.confState);
    this.peers.publish();
    this.logger.info({ index: meta.index, term: meta.term }, 'installed snapshot');
  }
}
