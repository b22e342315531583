/**
 * Waiting on the store: the first watch event that matters, and clientv3's "wait until every
 * key under a prefix created before mine is deleted" (key.go's waitDeletes), which is how a lock,
 * an election or a semaphore waits its turn without polling.
 */
import type { Client } from '../client.js';
import type { ResponseHeader } from '../kv/kv-types.js';
import { CompactedError } from '../errors.js';
import type { WatchEvent } from '../watch/watch.js';

export interface AwaitEventOptions {
  /** Watch every key under `key` rather than `key` alone. */
  readonly prefix?: boolean;
  /** The first revision the watch reports. */
  readonly startRevision: bigint;
}

/**
 * The first event from `options.startRevision` on that `accept` takes; `'compacted'` when that
 * revision is compacted away (the caller re-reads and waits again). Rejects with the signal's
 * reason when it aborts.
 */
export async function awaitEvent(
  client: Client,
  key: Buffer,
  options: AwaitEventOptions,
  signal: AbortSignal,
  accept: (event: WatchEvent) => boolean,
): Promise<WatchEvent | 'compacted'> {
  signal.throwIfAborted();
  const watch = client.watch(key, {
    startRevision: options.startRevision,
    ...(options.prefix === true ? { prefix: true } : {}),
  });
  const stop = (): void => watch.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const event of watch) {
      if (accept(event)) return event;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof CompactedError) return 'compacted';
    throw err;
  } finally {
    signal.removeEventListener('abort', stop);
    watch.close();
  }
  signal.throwIfAborted();
  throw new Error('recipe: the watch ended before the awaited event');
}

/**
 * Returns once no key under `dir` has a create revision at or below `maxCreateRevision`:
 * repeatedly takes the newest such key and waits for its deletion (so each waiter watches one
 * key, and a release wakes one waiter, not the herd). The header is the range's that found none.
 */
export async function waitDeletes(client: Client, dir: Buffer, maxCreateRevision: bigint, signal: AbortSignal): Promise<ResponseHeader> {
  for (;;) {
    const older = await client.range(dir, {
      prefix: true,
      maxCreateRevision,
      sort: { target: 'create', order: 'descend' },
      limit: 1,
      signal,
    });
    const blocker = older.kvs[0];
    if (blocker === undefined) return older.header;
    await awaitEvent(client, blocker.key, { startRevision: older.header.revision + 1n }, signal, (event) => event.type === 'delete');
  }
}
