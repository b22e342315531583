import { inject, injectable, optional } from 'inversify';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { DEFERRAL, type Deferral } from '../ports/deferral.js';
import { MvccStore, type MvccEvent } from './mvcc-store.js';
import type { WatchKeyRange } from './watch-key-range.js';
import { DEFAULT_WATCH_LIMITS, type WatchFilter, type WatchLimits } from '../api/watch-types.js';
import { Watcher, type WatcherHost } from './watcher.js';

/** A key as a Map key: one char per byte. */
const keyOf = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

/** Overrides of DEFAULT_WATCH_LIMITS (e.g. a shorter progress interval in tests). */
export const WATCH_LIMITS = Symbol.for('cairn.value.WatchLimits');

export interface WatchOptions {
  readonly range: WatchKeyRange;
  /** 0 or absent: from the next revision. */
  readonly startRevision?: number;
  readonly filters?: readonly WatchFilter[];
  readonly prevKv?: boolean;
  readonly progressNotify?: boolean;
}

/**
 * The watchers of one member's MVCC store, in etcd's two groups: synced watchers take each
 * committed write's events as it is applied (on a follower too, as it applies); unsynced ones
 * read their history from the Backend (see Watcher). A snapshot restore, which brings in writes
 * without commit events, turns every synced watcher unsynced, so it reads them from the history
 * (or is canceled with the compact revision when that history is gone, as etcd does).
 */
@injectable()
export class WatchHub {
  private readonly syncedWatchers = new Set<Watcher>();
  /**
   * The synced watchers of one key each, by key (latin1), and the synced watchers of a range: a
   * commit is offered only to the watchers of its keys and to the range watchers, so a write costs
   * the same with 100,000 idle single-key watchers as with none (etcd keeps its watcher groups so).
   */
  private readonly syncedByKey = new Map<string, Set<Watcher>>();
  private readonly syncedRanges = new Set<Watcher>();
  /** The last revision offered to the synced watchers: each has had every one up to here. */
  private lastCommitted = 0;
  private readonly unsyncedWatchers = new Set<Watcher>();
  private readonly limits: WatchLimits;
  private timer: TimerHandle | undefined;
  private restoreWaiters: (() => void)[] = [];
  private readonly host: WatcherHost;

  constructor(
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(DEFERRAL) deferral: Deferral,
    @inject(WATCH_LIMITS) @optional() limits: Partial<WatchLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WATCH_LIMITS, ...limits };
    this.host = {
      store,
      limits: this.limits,
      deferral,
      synced: (w) => {
        this.unsyncedWatchers.delete(w);
        this.syncedWatchers.add(w);
        this.index(w);
      },
      unsynced: (w) => {
        this.syncedWatchers.delete(w);
        this.unindex(w);
        this.unsyncedWatchers.add(w);
      },
      removed: (w) => {
        this.syncedWatchers.delete(w);
        this.unindex(w);
        this.unsyncedWatchers.delete(w);
      },
      restored: () =>
        new Promise<void>((resolve) => {
          this.restoreWaiters.push(resolve);
          // A restore always ends with the hook; the poll only guards against one that failed midway.
          const poll = this.clock.setTimeout(() => resolve(), 1000);
          this.restoreWaiters.push(() => poll.cancel());
        }),
    };
    store.onCommit((events, revision) => this.committed(events, revision));
    store.onRestore(() => this.restoredStore());
    this.timer = clock.setInterval(() => this.tick(), this.limits.progressIntervalMs);
  }

  get watcherCount(): { readonly synced: number; readonly unsynced: number } {
    return { synced: this.syncedWatchers.size, unsynced: this.unsyncedWatchers.size };
  }

  /** Events held in memory for consumers, over all watchers (the bound a slow consumer cannot grow). */
  get backlogEvents(): number {
    let n = 0;
    for (const w of this.syncedWatchers) n += w.backlogSize.events;
    for (const w of this.unsyncedWatchers) n += w.backlogSize.events;
    return n;
  }

  watch(options: WatchOptions): Watcher {
    const startRevision = options.startRevision !== undefined && options.startRevision > 0 ? options.startRevision : this.store.currentRevision + 1;
    const watcher = new Watcher(this.host, {
      range: options.range,
      startRevision,
      filters: options.filters ?? [],
      prevKv: options.prevKv === true,
      progressNotify: options.progressNotify === true,
    });
    this.unsyncedWatchers.add(watcher);
    watcher.begin();
    return watcher;
  }

  /** Stop the progress timer and close every watcher. */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    for (const w of [...this.syncedWatchers, ...this.unsyncedWatchers]) w.close();
  }

  private committed(events: readonly MvccEvent[], revision: number): void {
    this.lastCommitted = revision;
    // Offering may unsync a watcher (a full backlog): collect first, then offer.
    const offered = new Set<Watcher>(this.syncedRanges);
    for (const e of events) {
      const watchers = this.syncedByKey.get(keyOf(e.kv.key));
      if (watchers !== undefined) for (const w of watchers) offered.add(w);
    }
    for (const w of offered) w.offer(events, revision);
  }

  private index(w: Watcher): void {
    const range = w.spec.range;
    if (range.end !== undefined) {
      this.syncedRanges.add(w);
      return;
    }
    const key = keyOf(range.key);
    let watchers = this.syncedByKey.get(key);
    if (watchers === undefined) this.syncedByKey.set(key, (watchers = new Set()));
    watchers.add(w);
  }

  private unindex(w: Watcher): void {
    const range = w.spec.range;
    if (range.end !== undefined) {
      this.syncedRanges.delete(w);
      return;
    }
    const key = keyOf(range.key);
    const watchers = this.syncedByKey.get(key);
    if (watchers === undefined) return;
    watchers.delete(w);
    if (watchers.size === 0) this.syncedByKey.delete(key);
  }

  private restoredStore(): void {
    for (const w of [...this.syncedWatchers]) w.restoredUnderneath(this.lastCommitted);
    const waiters = this.restoreWaiters;
    this.restoreWaiters = [];
    for (const wake of waiters) wake();
  }

  private tick(): void {
    for (const w of this.syncedWatchers) w.tick();
    for (const w of this.unsyncedWatchers) w.tick();
  }
}
