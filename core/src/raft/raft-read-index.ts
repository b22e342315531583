import { majority } from './quorum.js';
import { RaftReplication } from './raft-replication.js';
import { message } from './raft-state.js';
import { MessageType, NO_MEMBER, type MemberId, type Message } from '../protocol/raft-types.js';

/**
 * The third layer of Raft (see raft.ts): ReadIndex (thesis §6.4). A leader answers a read with
 * its commit index once a quorum's heartbeat answers confirm it still leads.
 */
export abstract class RaftReadIndex extends RaftReplication {
  protected leaderReadIndex(m: Message): void {
    if (this.config.bugs?.readWithoutReadIndex === true) {
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    if (this.config.bugs?.leaseReadWithoutCheckQuorum === true && this.log.term(this.log.committed) === this.term) {
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Until an entry of this term commits, our commit index may be behind the real one (§6.4).
      this.readsBeforeCommit.push(m);
      return;
    }
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      // A single voter is its own quorum: leadership needs no confirmation.
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    this.readOnly.add(this.log.committed, m.context, m.from, this.id);
    this.broadcastHeartbeat();
  }

  /** A heartbeat answer carrying a read round's context acknowledges that round, and every older one. */
  protected confirmReads(m: Message): void {
    if (m.context.length === 0) return;
    const acks = this.readOnly.ack(m.context, m.from);
    if (acks === undefined) return;
    let voterAcks = 0;
    for (const v of this.conf.voters) if (acks.has(v)) voterAcks++;
    if (voterAcks < majority(this.conf.voters.length)) return;
    for (const read of this.readOnly.release(m.context)) this.answerRead(read.from, read.index, read.context);
  }

  protected override releaseReadsBeforeCommit(): void {
    if (this.readsBeforeCommit.length === 0) return;
    const queued = this.readsBeforeCommit.splice(0);
    for (const m of queued) this.leaderReadIndex(m);
  }

  protected answerRead(to: MemberId, index: number, context: Uint8Array): void {
    if (to === this.id || to === NO_MEMBER) {
      this.readStates.push({ index, context });
    } else {
      this.send(message({ type: MessageType.ReadIndexResp, from: this.id, to, term: this.term, index, context }));
    }
  }
}
