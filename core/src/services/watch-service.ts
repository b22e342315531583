import type { MvccStore } from '../mvcc/mvcc-store.js';
import type { WatchHub } from '../mvcc/watch-hub.js';
import { WatchStream } from '../mvcc/watch-stream.js';
import type { WatchSession } from '../mvcc/watch-types.js';
import { EtcdErrors } from './errors.js';
import type { ResponseHeader } from './kv-types.js';
import type { WatchService } from './registry.js';

/**
 * etcd's Watch service on a member: watches are served from this member's own store, so a
 * follower delivers what it has applied. A learner refuses the stream, as etcd 3.4 refuses every
 * stream but Snapshot on a learner.
 */
export class MemberWatchService implements WatchService {
  constructor(
    private readonly hub: WatchHub,
    private readonly store: MvccStore,
    private readonly header: (revision: number) => ResponseHeader,
    private readonly isLearner: () => boolean,
  ) {}

  private cached: ResponseHeader | undefined;

  openStream(): WatchSession {
    if (this.isLearner()) throw EtcdErrors.notSupportedForLearner();
    return new WatchStream(this.hub, (revision) => this.sharedHeader(revision), () => this.store.currentRevision);
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
