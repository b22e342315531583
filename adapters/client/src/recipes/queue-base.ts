/** What the FIFO and priority queues share: the taking side (see queue-claim.ts) and the append of a sequential key. */
import type { Bytes } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { KeyValue } from '../kv/kv-types.js';
import { pollFirst, takeFirst } from './queue-claim.js';
import { slashed } from './recipe-keys.js';
import { clientOf, sessionOf, type RecipeTarget } from './recipe-target.js';
import { putSequentialKey, type SequentialKey } from './sequential-key.js';
import { withWaitScope } from './wait-scope.js';

export abstract class QueueBase {
  readonly prefix: Buffer;

  constructor(
    readonly target: RecipeTarget,
    prefix: Bytes,
  ) {
    this.prefix = slashed(prefix);
  }

  /** Removes and returns the first item in key order, waiting for one while the queue is empty. */
  dequeue(options?: CallOptions): Promise<KeyValue> {
    return withWaitScope(sessionOf(this.target), options, (signal) => takeFirst(clientOf(this.target), this.prefix, signal));
  }

  /** Removes and returns the first item, or undefined when the queue is empty. */
  poll(options?: CallOptions): Promise<KeyValue | undefined> {
    return withWaitScope(sessionOf(this.target), options, (signal) => pollFirst(clientOf(this.target), this.prefix, signal));
  }

  /** How many items wait in the queue now. */
  async size(options?: CallOptions): Promise<bigint> {
    return (await clientOf(this.target).range(this.prefix, { ...options, prefix: true, countOnly: true })).count;
  }

  /** Creates the next sequential key under `dir` (the queue's prefix or a directory below it). */
  protected append(dir: Buffer, value: Bytes, options: CallOptions | undefined): Promise<SequentialKey> {
    return withWaitScope(sessionOf(this.target), options, (signal) => putSequentialKey(clientOf(this.target), dir, value, signal));
  }
}
