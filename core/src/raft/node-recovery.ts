import type { LogStore } from '../ports/log-store.js';
import type { Logger } from '../ports/logger.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { StableStore } from '../ports/stable-store.js';
import { ConfChangeType, EntryType, NO_MEMBER, type Entry, type MemberId, type SnapshotMeta } from '../protocol/raft-types.js';
import { encodeConfChange, memberChangeContext } from './conf-change.js';
import type { RaftInitialState } from './core-api.js';
import type { RaftNodeConfig } from './node-config.js';
import type { NodeState } from './node-state.js';
import type { StateMachine } from './state-machine.js';

/** The ports a member's durable state is read from. */
export interface RecoveryPorts {
  readonly logStore: LogStore;
  readonly stableStore: StableStore;
  readonly snapshotStore: SnapshotStore;
  readonly stateMachine: StateMachine;
}

/**
 * Bring `state` to what the member's storage holds — bootstrapping a fresh one first — and return
 * where the Raft core resumes: the saved term, vote and membership, the log after its compaction
 * point, and the applied index of the state machine (restored from the stored snapshot when
 * behind it). Refuses storage of another cluster or member, and storages that do not belong
 * together.
 */
export async function recoverNode(state: NodeState, config: RaftNodeConfig, ports: RecoveryPorts, logger: Logger): Promise<RaftInitialState> {
  const { stableStore, snapshotStore, logStore, stateMachine: sm } = ports;
  const id = state.id;

  const saved = await stableStore.load();
  const configured = config.clusterId;
  if (saved !== undefined && configured !== undefined && saved.clusterId !== '' && saved.clusterId !== configured) {
    throw new Error(
      `member ${id}: cluster ID mismatch: the data dir belongs to cluster ${saved.clusterId}, the configuration (initial-cluster and initial-cluster-token) names cluster ${configured}`,
    );
  }
  if (saved !== undefined && saved.memberId !== id) {
    throw new Error(
      `member ID mismatch: the data dir belongs to member ${saved.memberId}, the configuration (initial-advertise-peer-urls and initial-cluster-token) names member ${id}`,
    );
  }
  if (saved === undefined) {
    await bootstrap(state, config, ports);
  } else {
    state.clusterId = saved.clusterId === '' ? (config.clusterId ?? '') : saved.clusterId;
    state.hardState = saved.hardState;
    state.confState = saved.confState;
  }

  // The state machine is the durable state; the log starts where it was last compacted. A stored
  // snapshot is always one this member received: restore it when the state machine is behind it.
  const stored = await snapshotStore.latest();
  const held = await sm.appliedIndex();
  if (held === undefined && stored === undefined) {
    throw new Error(
      `member ${id}: the state machine's last snapshot restore was cut short and no stored snapshot is left to restore it from; refusing to start on a half-restored store`,
    );
  }
  let applied = held ?? 0;
  if (stored !== undefined && (held === undefined || stored.meta.index > held)) {
    if (held === undefined) logger.warn({ index: stored.meta.index }, 'state machine restore was cut short; restoring the stored snapshot again');
    await sm.restore(stored.meta, stored.read());
    applied = stored.meta.index;
  }
  if (stored !== undefined && stored.meta.index === applied) {
    // Restored now, or installed before a crash that may have cut short the log's alignment with
    // it or the save of its membership: finish both (the membership at `applied` is the snapshot's).
    if (stored.meta.index >= logStore.firstIndex() - 1) await alignLogWith(logStore, stored.meta);
    state.confState = stored.meta.confState;
  }
  const compactedTo = logStore.firstIndex() - 1;
  if (applied < compactedTo) {
    throw new Error(
      `member ${id}: the state machine holds entries up to ${applied}, but the log was compacted up to ${compactedTo}; entries ${applied + 1}..${compactedTo} are gone (the state machine's storage does not belong with this log)`,
    );
  }
  if (applied > logStore.lastIndex()) {
    throw new Error(
      `member ${id}: the state machine holds entries up to ${applied}, past the log's last index ${logStore.lastIndex()} (the state machine's storage does not belong with this log)`,
    );
  }
  const compactedTerm = await logStore.term(compactedTo);
  if (compactedTerm === undefined) throw new Error(`member ${id}: the log store does not know the term of its compaction point ${compactedTo}`);
  // Raft needs the compaction point's index and term; the membership it carries is only ever sent
  // in Snap messages, which the driver rewrites to what it streams.
  const snapshot: SnapshotMeta | undefined = compactedTo === 0 ? undefined : { index: compactedTo, term: compactedTerm, confState: state.confState };
  state.snapshotIndex = Math.max(compactedTo, stored?.meta.index ?? 0);
  const entries = compactedTo < logStore.lastIndex() ? await logStore.entries(compactedTo + 1, logStore.lastIndex() + 1) : [];
  state.applied = applied;
  const appliedTerm = await logStore.term(applied);
  if (appliedTerm === undefined) throw new Error(`member ${id}: the log store does not know the term of applied entry ${applied}`);
  state.appliedTerm = appliedTerm;
  state.hardState = { ...state.hardState, commit: Math.max(state.hardState.commit, applied) };

  return {
    hardState: state.hardState,
    confState: state.confState,
    ...(snapshot === undefined ? {} : { snapshot }),
    entries,
    applied,
  };
}

/** A fresh store: a founding member writes the initial membership; a joining one starts with none. */
async function bootstrap(state: NodeState, config: RaftNodeConfig, ports: RecoveryPorts): Promise<void> {
  state.clusterId = config.clusterId ?? '';
  if (config.join) {
    state.confState = { voters: [], learners: [] };
  } else {
    // Bootstrap as etcd does: the initial membership is the log's first entries (term 1,
    // committed), identical on every founding member, so a member that joins later and
    // replays the log from the start learns it too.
    const founders = [...config.peers.keys()].sort();
    const entries: Entry[] = founders.map((id, i) => ({
      index: i + 1,
      term: 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddVoter, memberId: id, context: bootstrapContext(config, id) }),
    }));
    await ports.logStore.append(entries);
    state.confState = { voters: founders, learners: [] };
    state.hardState = { term: 1, vote: NO_MEMBER, commit: entries.length };
  }
  await ports.stableStore.save(state.stableState());
}

function bootstrapContext(config: RaftNodeConfig, member: MemberId): Uint8Array {
  const urls = config.peers.get(member) ?? [];
  if (config.bootstrapContext !== undefined) return config.bootstrapContext(member, urls);
  return memberChangeContext(urls);
}

/** Make the log start at the snapshot: keep entries after it only when they follow it (same term at its index). */
export async function alignLogWith(logStore: LogStore, meta: SnapshotMeta): Promise<void> {
  const term = await logStore.term(meta.index);
  if (term !== meta.term && logStore.lastIndex() >= logStore.firstIndex()) {
    await logStore.truncateFrom(logStore.firstIndex());
  }
  if (meta.index > logStore.firstIndex() - 1 || term !== meta.term) await logStore.compactTo(meta.index, meta.term);
}
