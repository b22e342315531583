import { inject, injectable } from 'inversify';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { DEFERRAL, type Deferral } from '../ports/deferral.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { WatchHub } from '../mvcc/watch-hub.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { RESPONSE_HEADERS, type ResponseHeaders } from '../api/response-headers.js';

import { WatchStream } from '../mvcc/watch-stream.js';
import type { WatchSession, WatchStreamOptions } from '../api/watch-types.js';
import { EtcdErrors } from '../api/errors.js';
import type { ResponseHeader } from '../api/kv-types.js';
import type { WatchService } from '../api/services.js';

/**
 * etcd's Watch service on a member: watches are served from this member's own store, so a
 * follower delivers what it has applied. A stream whose client requires a leader (etcd's
 * "hasleader" metadata, which etcdctl sends) is refused while there is none, and ended with
 * "etcdserver: no leader" when the leader has been gone an election timeout, as etcd does, so
 * the client moves to a member that has one.
 */
@injectable()
export class MemberWatchService implements WatchService {
  private cached: ResponseHeader | undefined;
  private readonly requiringLeader = new Set<WatchStream>();
  private monitor: TimerHandle | undefined;
  private leaderless = 0;

  constructor(
    @inject(WatchHub) private readonly hub: WatchHub,
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(RESPONSE_HEADERS) private readonly headers: ResponseHeaders,
    @inject(CONSENSUS) private readonly node: Pick<Consensus, 'id' | 'membership' | 'currentLeader'>,
    /** etcd's election timeout: a require-leader stream ends after this long without a leader. */
    @inject(MEMBER_SETTINGS) private readonly settings: Pick<MemberSettings, 'electionTimeoutMs'>,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(DEFERRAL) private readonly deferral: Deferral,
  ) {}

  /** etcd 3.4 refuses every stream but Snapshot on a learner. */
  private isLearner(): boolean {
    return this.node.membership().learners.includes(this.node.id);
  }

  private hasLeader(): boolean {
    return this.node.currentLeader() !== NO_MEMBER;
  }

  openStream(options: WatchStreamOptions = {}): WatchSession {
    if (this.isLearner()) throw EtcdErrors.notSupportedForLearner();
    if (options.requireLeader === true && !this.hasLeader()) throw EtcdErrors.noLeader();
    const requireLeader = options.requireLeader === true;
    const stream = new WatchStream(
      this.hub,
      (revision) => this.sharedHeader(revision),
      () => this.store.currentRevision,
      requireLeader ? (s) => this.requiringLeader.delete(s) : undefined,
    );
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
    this.monitor ??= this.clock.setInterval(() => this.checkLeader(), Math.max(1, this.settings.electionTimeoutMs / 2));
  }

  private checkLeader(): void {
    this.leaderless = this.hasLeader() ? 0 : this.leaderless + 1;
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
    if (cached === undefined)
      this.deferral.defer(() => {
        this.cached = undefined;
      });
    this.cached = this.headers.header(revision);
    return this.cached;
  }
}
