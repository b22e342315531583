import type { Clock, TimerHandle } from '../ports/clock.js';
import type { MvccStore } from '../mvcc/mvcc-store.js';
import type { WatchHub } from '../mvcc/watch-hub.js';
import { WatchStream } from '../mvcc/watch-stream.js';
import type { WatchSession, WatchStreamOptions } from '../api/watch-types.js';
import { EtcdErrors } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import type { WatchService } from '../api/services.js';

export interface WatchServiceMember {
  /** This member is a learner (etcd 3.4 refuses every stream but Snapshot on a learner). */
  isLearner(): boolean;
  /** This member knows a leader. */
  hasLeader(): boolean;
  /** etcd's election timeout: a require-leader stream ends after this long without a leader. */
  readonly electionTimeoutMs: number;
}

/**
 * etcd's Watch service on a member: watches are served from this member's own store, so a
 * follower delivers what it has applied. A stream whose client requires a leader (etcd's
 * "hasleader" metadata, which etcdctl sends) is refused while there is none, and ended with
 * "etcdserver: no leader" when the leader has been gone an election timeout, as etcd does, so
 * the client moves to a member that has one.
 */
export class MemberWatchService implements WatchService {
  private cached: ResponseHeader | undefined;
  private readonly requiringLeader = new Set<WatchStream>();
  private monitor: TimerHandle | undefined;
  private leaderless = 0;

  constructor(
    private readonly hub: WatchHub,
    private readonly store: MvccStore,
    private readonly header: (revision: number) => ResponseHeader,
    private readonly member: WatchServiceMember,
    private readonly clock: Clock,
  ) {}

  openStream(options: WatchStreamOptions = {}): WatchSession {
    if (this.member.isLearner()) throw EtcdErrors.notSupportedForLearner();
    if (options.requireLeader === true && !this.member.hasLeader()) throw EtcdErrors.noLeader();
    const requireLeader = options.requireLeader === true;
    const stream = new WatchStream(this.hub, (revision) => this.sharedHeader(revision), () => this.store.currentRevision,
      requireLeader ? (s) => this.requiringLeader.delete(s) : undefined);
    if (requireLeader) this.watchLeader(stream);
    return stream;
  }

  /** Stop the leader monitor (the streams themselves end with the hub). */
  close(): void {
    this.monitor?.cancel();
    this.monitor = undefined;
  }

  private watchLeader(stream: WatchStream): void {
    this.requiringLeader.add(stream);
    // Checked twice per election timeout; two leaderless checks in a row end the streams.
    this.monitor ??= this.clock.setInterval(() => this.checkLeader(), Math.max(1, this.member.electionTimeoutMs / 2));
  }

  private checkLeader(): void {
    this.leaderless = this.member.hasLeader() ? 0 : this.leaderless + 1;
    if (this.leaderless < 2) return;
    for (const stream of [...this.requiringLeader]) stream.abort(EtcdErrors.noLeader());
  }

  /**
   * One header object per revision for the rest of this event-loop turn: an event fanned out to a
   * thousand watchers then costs one header (and the frontend encodes it once), not a thousand.
   */
  private sharedHeader(revision: number): ResponseHeader {
    const cached = this.cached;
    if (cached !== undefined && cached.revision === revision) return cached;
    if (cached === undefined) setImmediate(() => { this.cached = undefined; });
    this.cached = this.header(revision);
    return this.cached;
  }
}
