/**
 * The state of every key under a prefix, followed without gaps: one range, then a watch from the
 * range's revision + 1; the watch's events are grouped by revision (a txn or a lease expiry
 * changes several keys at one revision, and a follower should see that as one step). When the
 * watch reports its start revision compacted, the prefix is read again and a fresh snapshot
 * follows. ServiceRegistry.follow and ConfigMap are built on it.
 */
import type { Client } from '../client.js';
import { CompactedError } from '../errors.js';
import type { KeyValue } from '../kv/kv-types.js';
import type { WatchEvent } from '../watch/watch.js';

export type MirrorUpdate =
  /** Everything under the prefix at `revision` (the first update, and again after a compaction). */
  | { readonly kind: 'snapshot'; readonly revision: bigint; readonly kvs: readonly KeyValue[] }
  /** The events of one revision, in order. */
  | { readonly kind: 'events'; readonly revision: bigint; readonly events: readonly WatchEvent[] };

const NOTHING_READY = Symbol('nothing ready');

/** Yields the prefix's snapshot, then its changes; throws the signal's reason when it aborts. */
export async function* mirrorPrefix(client: Client, dir: Buffer, signal: AbortSignal): AsyncGenerator<MirrorUpdate, void, undefined> {
  for (;;) {
    signal.throwIfAborted();
    const snapshot = await client.range(dir, { prefix: true, signal });
    yield { kind: 'snapshot', revision: snapshot.header.revision, kvs: snapshot.kvs };
    const watch = client.watch(dir, { prefix: true, startRevision: snapshot.header.revision + 1n });
    const stop = (): void => watch.close();
    signal.addEventListener('abort', stop, { once: true });
    const events = watch[Symbol.asyncIterator]();
    try {
      let pending = events.next();
      for (;;) {
        const first = await pending;
        if (first.done === true) break;
        const batch = [first.value];
        pending = events.next();
        // Events of the same revision arrive together: take those already here before yielding.
        for (;;) {
          pending.catch(() => undefined);
          const next = await Promise.race([pending, new Promise<typeof NOTHING_READY>((resolve) => setImmediate(() => resolve(NOTHING_READY)))]);
          if (next === NOTHING_READY || next.done === true || next.value.revision !== first.value.revision) break;
          batch.push(next.value);
          pending = events.next();
        }
        yield { kind: 'events', revision: first.value.revision, events: batch };
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (!(err instanceof CompactedError)) throw err;
      continue; // compacted: read the prefix again from scratch
    } finally {
      signal.removeEventListener('abort', stop);
      watch.close();
    }
    signal.throwIfAborted();
    throw new Error('recipe: the watch on the prefix ended unexpectedly');
  }
}
