/**
 * A FIFO queue under `<prefix>/`: `enqueue` creates the next sequential key
 * (`<prefix>/<16-digit number>`, see sequential-key.ts), `dequeue` removes the first key by a
 * txn on its mod revision and returns it, waiting (by a watch on the prefix) while the queue is
 * empty.
 *
 * Guarantees: items leave in the order their keys were created; every item is returned by at
 * most one `dequeue`, whatever the number of consumers (the removing txn succeeds for one). Items
 * are not under any lease: they outlive producers and consumers.
 *
 * Failure: an item is removed in the same txn that hands it to the consumer, so a consumer that
 * dies after `dequeue` resolved loses that item (at-most-once delivery); to redeliver, re-enqueue
 * it. A waiting `dequeue` rejects with the caller's reason, a DeadlineExceededError, or — when the
 * queue was built on a Session — a SessionLostError when its lease is lost. A call whose removing
 * txn may have been applied but whose answer was lost rejects; the item may then be gone.
 */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import { QueueBase } from './queue-base.js';
import type { SequentialKey } from './sequential-key.js';

/** dequeue/poll take the oldest item (QueueBase). */
export class Queue extends QueueBase {
  /** Appends `value`; resolves with the item's key. */
  enqueue(value: Bytes, options?: CallOptions): Promise<SequentialKey> {
    return this.append(this.prefix, value, options);
  }
}
