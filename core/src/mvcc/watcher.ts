import type { KeyValue } from '../api/kv-types.js';
import type { Deferral } from '../ports/deferral.js';
import type { MvccEvent, MvccStore } from './mvcc-store.js';
import { toKeyValue } from './key-record.js';
import type { WatchKeyRange } from './watch-key-range.js';
import { WatchFilter, type WatchDelivery, type WatchEvent, type WatchLimits } from '../api/watch-types.js';

/** What a watcher needs from the hub that owns it. */
export interface WatcherHost {
  readonly store: MvccStore;
  readonly limits: WatchLimits;
  /** How a catch-up that found nothing lets the event loop run before it reads on. */
  readonly deferral: Deferral;
  /** The watcher caught up with the store: send it live events again. */
  synced(watcher: Watcher): void;
  /** The watcher fell behind: stop sending it live events. */
  unsynced(watcher: Watcher): void;
  /** The watcher ended. */
  removed(watcher: Watcher): void;
  /** Resolves once a restore under way has finished. */
  restored(): Promise<void>;
}

export interface WatcherSpec {
  readonly range: WatchKeyRange;
  /** The first revision whose events the watcher wants. */
  readonly startRevision: number;
  readonly filters: readonly WatchFilter[];
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
}

/** Events of one revision that one watcher wants. */
interface PendingRevision {
  readonly revision: number;
  readonly events: readonly MvccEvent[];
}

const eventBytes = (e: MvccEvent): number => e.kv.key.length + e.kv.value.length + 64;

/**
 * One watch, as etcd's synced/unsynced watchers: while synced it takes each committed write's
 * events live, into a bounded backlog; when the backlog is full it becomes unsynced and drops
 * live events, and once its consumer has drained the backlog it reads what it missed from the
 * Backend's history, in order, as fast as the consumer takes it, until it has caught up. Every
 * matching event is handed over exactly once, in revision order.
 *
 * The consumer pulls: `next()` resolves with the next delivery, one call at a time.
 */
export class Watcher {
  private isSynced = false;
  /** Every matching event of a revision below this is in the backlog or handed over. */
  private nextRevision: number;
  private readonly backlog: PendingRevision[] = [];
  private backlogEvents = 0;
  private backlogBytes = 0;
  private progressDue = false;
  private active = false;
  private closed = false;
  private busy = false;
  /** Events were taken for a delivery that `next()` has not returned yet. */
  private holding = false;
  /** Every matching event up to this revision has been handed over. */
  private handedThrough: number;
  private wake: (() => void) | undefined;
  private readonly noPut: boolean;
  private readonly noDelete: boolean;

  constructor(
    private readonly host: WatcherHost,
    readonly spec: WatcherSpec,
  ) {
    this.nextRevision = spec.startRevision;
    this.handedThrough = spec.startRevision - 1;
    this.noPut = spec.filters.includes(WatchFilter.NoPut);
    this.noDelete = spec.filters.includes(WatchFilter.NoDelete);
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** Events held for the consumer now (bounded by the limits, give or take one revision). */
  get backlogSize(): { readonly events: number; readonly bytes: number } {
    return { events: this.backlogEvents, bytes: this.backlogBytes };
  }

  /** Called by the hub once, right after it registered the watcher. */
  begin(): void {
    if (this.nextRevision > this.host.store.currentRevision) this.markSynced();
  }

  /**
   * A committed write (called by the hub for synced watchers only, and only for revisions that may
   * touch the watcher's keys: the revisions skipped since the last offer held nothing for it).
   */
  offer(events: readonly MvccEvent[], revision: number): void {
    if (revision < this.nextRevision) return;
    this.skipTo(revision);
    const wanted = events.filter((e) => this.wants(e));
    if (wanted.length === 0) {
      this.nextRevision = revision + 1;
      if (this.backlog.length === 0 && !this.holding) this.handedThrough = revision;
      return;
    }
    const bytes = wanted.reduce((n, e) => n + eventBytes(e), 0);
    const { backlogEvents, backlogBytes } = this.host.limits;
    // A backlog that is empty takes any revision, however large: the watcher always moves on.
    if (this.backlog.length > 0 && (this.backlogEvents + wanted.length > backlogEvents || this.backlogBytes + bytes > backlogBytes)) {
      // From `nextRevision` on, what it misses is read from the Backend once the consumer drains the backlog.
      this.isSynced = false;
      this.host.unsynced(this);
      return;
    }
    this.backlog.push({ revision, events: wanted });
    this.backlogEvents += wanted.length;
    this.backlogBytes += bytes;
    this.nextRevision = revision + 1;
    this.notify();
  }

  /**
   * The store was replaced by a snapshot: what it brought in is read from the Backend, after
   * `committedThrough`, the last revision committed (and offered when it mattered) before.
   */
  restoredUnderneath(committedThrough: number): void {
    if (!this.isSynced) return;
    this.skipTo(committedThrough + 1);
    this.isSynced = false;
    this.host.unsynced(this);
    this.notify();
  }

  /** A progress tick: a progress_notify watcher that got nothing since the last tick and is synced is told the revision. */
  tick(): void {
    if (this.spec.progressNotify && !this.active && this.isSynced && this.backlog.length === 0) {
      this.progressDue = true;
      this.notify();
    }
    this.active = false;
  }

  /**
   * The revision up to which every matching event has been handed over. A consumer that writes
   * each delivery as soon as `next()` resolves (with no await between) may report it as progress.
   */
  progressRevision(): number {
    if (this.isSynced && this.backlog.length === 0 && !this.holding) return Math.max(this.handedThrough, this.host.store.currentRevision);
    return this.handedThrough;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.removed(this);
    this.notify();
  }

  /** The next delivery, or undefined once the watcher is closed. */
  async next(): Promise<WatchDelivery | undefined> {
    if (this.busy) throw new Error('Watcher.next: a call is already pending');
    this.busy = true;
    try {
      for (;;) {
        if (this.closed) return undefined;
        if (this.backlog.length > 0) {
          const delivery = await this.takeBacklog();
          if (this.closed) return undefined;
          return delivery;
        }
        if (!this.isSynced) {
          const delivery = await this.catchUp();
          if (delivery?.kind === 'compacted') return delivery;
          if (this.closed) return undefined;
          if (delivery !== undefined) return delivery;
          continue;
        }
        if (this.progressDue) {
          this.progressDue = false;
          const revision = this.host.store.currentRevision;
          this.handedThrough = Math.max(this.handedThrough, revision);
          return { kind: 'progress', revision };
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.busy = false;
      this.holding = false;
    }
  }

  /** A synced watcher moves on to `revision`: the revisions before it were committed while it was synced and held nothing for it. */
  private skipTo(revision: number): void {
    if (revision <= this.nextRevision) return;
    this.nextRevision = revision;
    if (this.backlog.length === 0 && !this.holding) this.handedThrough = Math.max(this.handedThrough, revision - 1);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private markSynced(): void {
    this.isSynced = true;
    this.host.synced(this);
  }

  private wants(e: MvccEvent): boolean {
    if (e.type === 'put' ? this.noPut : this.noDelete) return false;
    return this.spec.range.includes(e.kv.key);
  }

  private async takeBacklog(): Promise<WatchDelivery> {
    this.holding = true;
    const taken: MvccEvent[] = [];
    let revision = this.handedThrough;
    while (this.backlog.length > 0 && (taken.length === 0 || taken.length + this.backlog[0]!.events.length <= this.host.limits.batchEvents)) {
      const pending = this.backlog.shift()!;
      for (const e of pending.events) {
        taken.push(e);
        this.backlogBytes -= eventBytes(e);
      }
      this.backlogEvents -= pending.events.length;
      revision = pending.revision;
    }
    const events = await this.withPrevKvs(taken);
    this.handedThrough = revision;
    this.active = true;
    return { kind: 'events', events, revision };
  }

  /**
   * Read what the watcher missed from the Backend, from `nextRevision` on, up to a bounded number
   * of events (whole revisions) or records scanned. Undefined when nothing matched in what it read.
   */
  private async catchUp(): Promise<WatchDelivery | undefined> {
    const store = this.host.store;
    const view = store.historyView(this.nextRevision);
    if (view === undefined) {
      await this.host.restored();
      return undefined;
    }
    const found: MvccEvent[] = [];
    let through = view.revision;
    try {
      // etcd keeps the compact revision itself readable; anything older may be gone.
      if (this.nextRevision < view.compactRevision) {
        this.closed = true;
        this.host.removed(this);
        return { kind: 'compacted', compactRevision: view.compactRevision };
      }
      let scanned = 0;
      let current = -1;
      for await (const { at, record } of view.records()) {
        if (at.main !== current) {
          if (current >= 0 && (found.length >= this.host.limits.batchEvents || scanned >= this.host.limits.scanRecords)) {
            through = current;
            break;
          }
          current = at.main;
        }
        scanned++;
        const event: MvccEvent = { type: record.tombstone ? 'delete' : 'put', kv: toKeyValue(record, at.main) };
        if (this.wants(event)) found.push(event);
      }
    } finally {
      view.release();
    }
    this.nextRevision = through + 1;
    if (found.length === 0) this.handedThrough = Math.max(this.handedThrough, through);
    // Synchronous from the check to the flag: no commit can fall in between.
    if (this.nextRevision > store.currentRevision) this.markSynced();
    if (found.length === 0) {
      await new Promise<void>((resolve) => this.host.deferral.defer(resolve));
      return undefined;
    }
    this.holding = true;
    const events = await this.withPrevKvs(found);
    this.handedThrough = Math.max(this.handedThrough, through);
    this.active = true;
    return { kind: 'events', events, revision: through };
  }

  /** etcd reads a prev_kv watcher's previous version at the event's revision - 1 (none for a create, or once compacted). */
  private async withPrevKvs(events: readonly MvccEvent[]): Promise<WatchEvent[]> {
    if (!this.spec.prevKv) return events.map((e) => ({ type: e.type, kv: e.kv }));
    const out: WatchEvent[] = [];
    for (const e of events) {
      const prevKv = e.type === 'put' && e.kv.version === 1 ? undefined : await this.previous(e.kv);
      out.push(prevKv === undefined ? { type: e.type, kv: e.kv } : { type: e.type, kv: e.kv, prevKv });
    }
    return out;
  }

  private async previous(kv: KeyValue): Promise<KeyValue | undefined> {
    try {
      const response = await this.host.store.range({ key: kv.key, revision: kv.modRevision - 1 });
      return response.kvs[0];
    } catch {
      return undefined;
    }
  }
}
