/**
 * A configuration map kept in sync with every key under `<prefix>/` (a Curator CuratorCache
 * equivalent): one range, then a watch from its revision + 1, applied in revision order. Names
 * are the keys without the prefix. `ready` resolves once the first read is applied; `get` and
 * `entries` answer from memory; `changes()` yields each put and delete applied after it is
 * called. After a compaction of the watch's start revision the prefix is read again and the
 * differences are reported as changes, so the map never stays stale.
 *
 * Guarantees: the map is always the prefix's exact content at `revision` (a revision it has
 * applied entirely); changes are reported once each, in revision order.
 *
 * Failure: while the member is unreachable the map keeps its last content (reads are local and
 * may be stale by then; `revision` says how old); the watch resumes without a gap when a member
 * answers again. A failure that is not a compaction (e.g. permission denied) is retried after
 * a pause; `close()` stops it and ends every `changes()` iterator.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { KeyValue } from '../kv/kv-types.js';
import { ChangeFeed } from './change-feed.js';
import { mirrorPrefix, type MirrorUpdate } from './prefix-mirror.js';
import { nameUnder, slashed } from './recipe-keys.js';
import { clientOf, type RecipeTarget } from './recipe-target.js';

export interface ConfigChange {
  readonly type: 'put' | 'delete';
  readonly name: string;
  /** The new value (puts), undefined for deletes. */
  readonly value: Buffer | undefined;
  /** The value before the change, when the map held one. */
  readonly previous: Buffer | undefined;
  readonly revision: bigint;
}

export interface ConfigMapOptions {
  /** Pause before following again after a failure other than compaction (default 1000 ms). */
  retryDelayMs?: number;
}

export class ConfigMap {
  readonly prefix: Buffer;
  /** Resolves once the prefix has been read and applied. */
  readonly ready: Promise<void>;
  private readonly entriesByName = new Map<string, KeyValue>();
  private readonly feed = new ChangeFeed<ConfigChange>();
  private readonly stopper = new AbortController();
  private appliedRevision = 0n;

  constructor(
    readonly target: RecipeTarget,
    prefix: Bytes,
    private readonly options: ConfigMapOptions = {},
  ) {
    this.prefix = slashed(prefix);
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve) => (markReady = resolve));
    void this.follow(markReady);
  }

  /** The last revision applied. */
  get revision(): bigint {
    return this.appliedRevision;
  }

  get size(): number {
    return this.entriesByName.size;
  }

  get(name: string): Buffer | undefined {
    return this.entriesByName.get(name)?.value;
  }

  /** The value of `name` as UTF-8. */
  getString(name: string): string | undefined {
    return this.get(name)?.toString('utf8');
  }

  /** The key-value behind `name` (revisions, lease). */
  getKeyValue(name: string): KeyValue | undefined {
    return this.entriesByName.get(name);
  }

  *entries(): IterableIterator<[string, Buffer]> {
    for (const [name, kv] of this.entriesByName) yield [name, kv.value];
  }

  /** Every change applied from now on; ends on `close()` or when the signal aborts (throwing its reason). */
  changes(options: CallOptions = {}): AsyncIterableIterator<ConfigChange> {
    return this.feed.subscribe(options.signal);
  }

  /** Stops following; `changes()` iterators end. */
  close(): void {
    this.stopper.abort(new Error('ConfigMap closed'));
    this.feed.end();
  }

  private async follow(markReady: () => void): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        for await (const update of mirrorPrefix(clientOf(this.target), this.prefix, signal)) {
          this.apply(update);
          markReady();
        }
      } catch (_err) {
        if (signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1_000));
      }
    }
  }

  private apply(update: MirrorUpdate): void {
    const changes: ConfigChange[] = [];
    if (update.kind === 'snapshot') {
      const fresh = new Map<string, KeyValue>();
      for (const kv of update.kvs) {
        const name = nameUnder(this.prefix, kv.key);
        if (name !== undefined) fresh.set(name, kv);
      }
      for (const [name, old] of this.entriesByName) {
        if (!fresh.has(name)) changes.push({ type: 'delete', name, value: undefined, previous: old.value, revision: update.revision });
      }
      for (const [name, kv] of fresh) {
        const old = this.entriesByName.get(name);
        if (old === undefined || old.modRevision !== kv.modRevision)
          changes.push({ type: 'put', name, value: kv.value, previous: old?.value, revision: kv.modRevision });
      }
      this.entriesByName.clear();
      for (const [name, kv] of fresh) this.entriesByName.set(name, kv);
    } else {
      for (const event of update.events) {
        const name = nameUnder(this.prefix, event.kv.key);
        if (name === undefined) continue;
        const previous = this.entriesByName.get(name)?.value;
        if (event.type === 'put') {
          this.entriesByName.set(name, event.kv);
          changes.push({ type: 'put', name, value: event.kv.value, previous, revision: event.revision });
        } else {
          this.entriesByName.delete(name);
          changes.push({ type: 'delete', name, value: undefined, previous, revision: event.revision });
        }
      }
    }
    this.appliedRevision = update.revision;
    for (const change of changes) this.feed.push(change);
  }
}
