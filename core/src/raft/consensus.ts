import type { ConfChange, ConfState, MemberId } from '../protocol/raft-types.js';
import type { RaftStatus } from './core-api.js';
import type { LeaderRequestHandler } from './leader-requests.js';

/** Checks a membership change against Raft's status right before it is proposed: an Error refuses it. */
export type ConfChangeGuard = (status: RaftStatus) => Error | undefined;

/** Told the leader this member now knows of (NO_MEMBER when none) and the term. */
export type LeaderChangeListener = (leader: MemberId, term: number) => void;

/**
 * What the layers above Raft (the services, the lessor, the cluster registry, the member-attributes
 * publisher) use of the consensus node, so they depend on this and not on RaftNode.
 */
export interface Consensus {
  /** This member's ID. */
  readonly id: MemberId;
  /** True once the node stopped or halted: nothing asked of it completes any more. */
  readonly isHalted: boolean;
  /** Replicate `payload`; resolves with what the state machine's apply returned, once applied here. */
  propose(payload: Uint8Array): Promise<unknown>;
  /** A linearizable read barrier: resolves (with the read index) once everything committed before the call is applied here. */
  readIndex(): Promise<number>;
  /**
   * Replicate a membership change; resolves with the membership once it is applied here. `guard`,
   * if given, decides in the node's loop right before the proposal (see ConfChangeGuard).
   */
  proposeConfChange(change: ConfChange, guard?: ConfChangeGuard): Promise<ConfState>;
  /** Ask the leader to hand leadership to `to`; resolves when this member sees `to` lead. */
  transferLeadership(to: MemberId): Promise<void>;
  /** The Raft core's view: term, role, leader, commit and (on the leader) each member's match index. */
  status(): RaftStatus;
  /** The term of the last Ready this member handled (what its responses report), without building a status. */
  term(): number;
  /** The membership as this member has applied it. */
  membership(): ConfState;
  /** The leader this member knows of (NO_MEMBER when none). */
  currentLeader(): MemberId;
  /** The highest index this member has applied to its state machine. */
  appliedIndex(): number;
  /** The cluster ID (16 hex digits); '' while a joining member has not heard from the cluster. */
  cluster(): string;
  /** Peer URLs of every member this node knows of (founders and applied membership changes). */
  peerUrls(): ReadonlyMap<MemberId, readonly string[]>;
  /** Ask the leader outside the log; rejects with LeaderRequestError when it cannot or does not answer (in `timeoutMs`, else an election timeout). */
  askLeader(kind: string, payload: Uint8Array, timeoutMs?: number): Promise<Uint8Array>;
  /** Answer `kind` requests from the other members while this member leads. */
  serveLeaderRequests(kind: string, handler: LeaderRequestHandler): void;
  /** Called on every change of the leader this member knows of. */
  onLeaderChange(listener: LeaderChangeListener): void;
}

export const CONSENSUS = Symbol.for('cairn.port.Consensus');
