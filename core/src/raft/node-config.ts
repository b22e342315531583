import type { Random } from '../ports/random.js';
import type { ConfChange, MemberId } from '../protocol/raft-types.js';
import type { PlantedBugs, RaftConfig, RaftCore, RaftInitialState } from './core-api.js';

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

/** What a RaftNode is configured with; its ports and state machine are injected beside it. */
export interface RaftNodeConfig {
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
  /** Builds the consensus core (tests may wrap it). */
  readonly createRaft?: (config: RaftConfig, initial: RaftInitialState) => RaftCore;
}

export const RAFT_NODE_CONFIG = Symbol.for('cairn.value.RaftNodeConfig');

/** The Raft core's settings for a node, etcd's defaults where its config is silent. */
export function raftConfigOf(config: RaftNodeConfig, random: Random): RaftConfig {
  const r = config.raft ?? {};
  return {
    id: config.id,
    electionTick: r.electionTick ?? 10,
    heartbeatTick: r.heartbeatTick ?? 1,
    preVote: r.preVote ?? true,
    checkQuorum: r.checkQuorum ?? true,
    maxSizePerMsg: r.maxSizePerMsg ?? 1024 * 1024,
    maxInflightMsgs: r.maxInflightMsgs ?? 256,
    maxInflightBytes: r.maxInflightBytes ?? 32 * 1024 * 1024,
    catchUpEntries: config.snapshotCatchUpEntries ?? 5_000,
    random,
    ...(r.bugs === undefined ? {} : { bugs: r.bugs }),
  };
}
