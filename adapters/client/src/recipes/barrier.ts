/**
 * A barrier on one key, as etcd's contrib/recipes Barrier: `hold()` creates the key (if it does
 * not exist), `release()` deletes it, `wait()` returns once the key does not exist (at once if
 * it never did), watching for its deletion.
 *
 * Guarantees: `wait()` resolves only at a revision where the key is absent. The key is not under
 * a lease, as in etcd's recipe: a holder that dies leaves the barrier held until someone calls
 * `release()` (build the Barrier on a Session and pass `{ lease: true }` to `hold` to tie it to
 * the session instead).
 *
 * Failure: a waiting `wait()` rejects with the caller's reason, a DeadlineExceededError or — when
 * built on a Session — a SessionLostError once the session's lease is lost.
 */
import type { Bytes } from '../bytes.js';
import { toBuffer } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import { Compare, Op } from '../kv/txn.js';
import { clientOf, sessionOf, type RecipeTarget } from './recipe-target.js';
import { keyValueOf, ONE_KEY } from './txn-results.js';
import { awaitEvent } from './wait-events.js';
import { withWaitScope } from './wait-scope.js';

export interface HoldOptions extends CallOptions {
  /** Put the key under the session's lease, so the barrier lifts when the holder's session ends. */
  lease?: boolean;
}

export class Barrier {
  readonly key: Buffer;

  constructor(
    readonly target: RecipeTarget,
    key: Bytes,
  ) {
    this.key = toBuffer(key);
  }

  /** Raises the barrier; false if it was up already (then this call changed nothing). */
  async hold(options: HoldOptions = {}): Promise<boolean> {
    const { lease, ...call } = options;
    const session = sessionOf(this.target);
    if (lease === true && session === undefined) throw new TypeError('Barrier.hold({ lease: true }) needs a Barrier built on a Session');
    const put = lease === true && session !== undefined ? Op.put(this.key, '', { lease: session.lease }) : Op.put(this.key, '');
    const result = await clientOf(this.target)
      .txn()
      .if(Compare.version(this.key, '=', 0n))
      .then(put)
      .commit(call);
    return result.succeeded;
  }

  /** Lowers the barrier: every waiter returns. */
  async release(options?: CallOptions): Promise<void> {
    await clientOf(this.target).delete(this.key, options);
  }

  /** Waits until the barrier is down. */
  wait(options?: CallOptions): Promise<void> {
    return withWaitScope(sessionOf(this.target), options, async (signal) => {
      const client = clientOf(this.target);
      for (;;) {
        const now = await client.range(this.key, { ...ONE_KEY, signal });
        if (keyValueOf(now.kvs, this.key) === undefined) return;
        const event = await awaitEvent(client, this.key, { startRevision: now.header.revision + 1n }, signal, (e) => e.type === 'delete');
        if (event !== 'compacted') return;
      }
    });
  }
}
