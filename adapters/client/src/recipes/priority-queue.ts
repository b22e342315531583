/**
 * A priority queue in the layout of etcd's contrib/recipes PriorityQueue: an item of priority
 * `p` (0–65535) is the next sequential key under `<prefix>/<p as 5 digits>/`, so key order is
 * priority order (lower number first), then arrival order within a priority. `dequeue` removes
 * the first key under `<prefix>/` by a txn on its mod revision, waiting while the queue is empty.
 *
 * Guarantees and failure behaviour are the Queue's: each item goes to at most one consumer and
 * is removed when handed out (at-most-once), items outlive sessions, and a waiting `dequeue`
 * rejects with the caller's reason, a DeadlineExceededError or (built on a Session) a
 * SessionLostError.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import { QueueBase } from './queue-base.js';
import { child } from './recipe-keys.js';
import type { SequentialKey } from './sequential-key.js';

export const MAX_PRIORITY = 65_535;

/** dequeue/poll take the item of the lowest priority number, oldest first (QueueBase: key order). */
export class PriorityQueue extends QueueBase {
  /** Adds `value` with `priority` (0 is served first). */
  enqueue(value: Bytes, priority: number, options?: CallOptions): Promise<SequentialKey> {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      return Promise.reject(new RangeError(`PriorityQueue: priority must be an integer in 0..${MAX_PRIORITY}, got ${priority}`));
    }
    return this.append(child(this.prefix, `${priority.toString().padStart(5, '0')}/`), value, options);
  }
}
