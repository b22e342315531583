import type { Logger } from '../ports/logger.js';
import type { StableStore } from '../ports/stable-store.js';
import { ConfChangeType, EntryType, type ConfChange, type ConfState, type Entry } from '../protocol/raft-types.js';
import { decodeConfChange } from './conf-change.js';
import type { RaftCore } from './core-api.js';
import type { NodeState } from './node-state.js';
import type { PeerTable } from './peer-table.js';
import { decodeEnvelope } from './proposal-envelope.js';
import type { StateMachine } from './state-machine.js';
import type { WaitingCalls } from './waiting-calls.js';
import { DurabilityError, durably } from './durability-error.js';

/**
 * Applies committed entries to the state machine, in index order and each once, and completes the
 * calls that waited for them: a proposal of this member gets what its apply returned, a membership
 * change is applied to Raft, the peer table and the StableStore before the state machine records it.
 */
export class EntryApplier {
  constructor(
    private readonly state: NodeState,
    private readonly stateMachine: StateMachine,
    private readonly stableStore: StableStore,
    private readonly peers: PeerTable,
    private readonly calls: WaitingCalls,
    private readonly logger: Logger,
    private readonly raft: () => RaftCore,
    /** This member applied its own removal. */
    private readonly removed: () => void,
  ) {}

  async apply(entry: Entry): Promise<void> {
    if (entry.index <= this.state.applied) return;
    const sm = this.stateMachine;
    if (entry.type === EntryType.ConfChange) {
      await this.applyConfChange(entry);
    } else if (entry.data.length === 0) {
      await sm.skip(entry.index);
    } else {
      const envelope = decodeEnvelope(entry.data);
      const mine = envelope.member === this.state.id && envelope.incarnation === this.state.incarnation;
      const waiter = mine ? this.calls.proposals.take(envelope.sequence) : undefined;
      let result: unknown;
      try {
        result = await sm.apply(entry.index, envelope.payload);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        waiter?.reject(error);
        // A disk error under the apply (the backend's write or sync): the member stops, saying so.
        throw isErrno(error) ? new DurabilityError(`applying entry ${entry.index} to the state machine`, error) : error;
      }
      waiter?.resolve(result);
    }
    this.state.applied = entry.index;
    this.state.appliedTerm = entry.term;
  }

  private async applyConfChange(entry: Entry): Promise<void> {
    const change = decodeConfChange(entry.data);
    // After a restart the newest change may be replayed; applying it again must change nothing.
    if (!inEffect(this.state.confState, change)) this.state.confState = this.raft().applyConfChange(change);
    this.peers.applyConfChange(change);
    this.peers.publish();
    // Membership is durable before the state machine records the entry as applied, so a crash
    // in between replays only this change.
    await durably(() => `saving the membership of entry ${entry.index}`, this.stableStore.save(this.state.stableState()));
    if (this.state.halted) return;
    const sm = this.stateMachine;
    if (sm.applyConfChange !== undefined) await sm.applyConfChange(entry.index, change);
    else await sm.skip(entry.index);
    await sm.flush();
    const { voters, learners } = this.state.confState;
    this.logger.info({ change: ConfChangeType[change.type], changedMember: change.memberId, voters, learners }, 'applied membership change');
    this.calls.confChangeApplied(change, this.state.confState);
    if (change.type === ConfChangeType.RemoveMember && change.memberId === this.state.id) this.removed();
  }
}

/** An error of the operating system (EIO, ENOSPC, ...), as Node's fs and the storage engines raise them. */
function isErrno(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** True when `conf` already reflects `change`. */
function inEffect(conf: ConfState, change: ConfChange): boolean {
  const { voters, learners } = conf;
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
