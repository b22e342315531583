/**
 * A distributed mutex in clientv3's layout (concurrency/mutex.go), so it excludes and is excluded
 * by clientv3's Mutex, `etcdctl lock <name>` and the server-side Lock RPC of etcd and Cairn.
 *
 * Layout: the owner key of a session is `<prefix>/<lease ID in hex>`, put under the session's
 * lease by a txn that succeeds only while that key does not exist (create revision 0). Among the
 * keys under `<prefix>/`, the one with the lowest create revision holds the lock; every other
 * waiter waits for the deletion of each key created before its own (one watch at a time, on the
 * newest older key), then checks that its own key still exists.
 *
 * Guarantees: at most one session at a time has an owner key with the lowest create revision,
 * so at most one `lock()` resolves per revision. The owner key's create revision is the
 * `fencingToken`: it grows with every grant, so a resource that remembers the highest token it
 * has seen can refuse a holder whose lease has already expired (the only defence against a
 * holder that stalls past its TTL — see RECIPES.md).
 *
 * Failure: a waiting `lock()` rejects with the caller's abort reason, a DeadlineExceededError on
 * timeout, or a SessionLostError when the session's lease is lost (its key is deleted on the way
 * out when this call created it). A holder's `handle.signal` aborts with SessionLostError when the
 * lease is lost: the lock is then no longer held, whatever the holder does.
 */
import type { CallOptions } from '../call-options.js';
import type { KeyValue, ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op, type Comparison } from '../kv/txn.js';
import { holdSignal } from './lease-bound-handle.js';
import { repeatOnOutage } from './repeat-on-outage.js';
import { SessionKeyedRecipe } from './session-key.js';
import { keyValueOf, ONE_KEY, rangeAt } from './txn-results.js';
import { isSessionGone, sessionLostError, withWaitScope } from './wait-scope.js';
import { waitDeletes } from './wait-events.js';

/** How long a failed wait spends removing its key before leaving it to the lease. */
const CLEANUP_TIMEOUT_MS = 5_000;

export interface LockHandle {
  /** The owner key, `<prefix>/<lease hex>`. */
  readonly key: Buffer;
  /** The owner key's create revision: larger for every later grant of this lock. */
  readonly fencingToken: bigint;
  /** The header of the response that made this session the owner (clientv3's Mutex.Header). */
  readonly header: ResponseHeader;
  /** Aborts with a SessionLostError when the session's lease is lost: the lock is gone then. */
  readonly signal: AbortSignal;
  /** A txn compare that holds while this grant is current: `client.txn().if(handle.isOwner())…`. */
  isOwner(): Comparison;
  /** Deletes the owner key (only if it is still this grant's). */
  unlock(options?: CallOptions): Promise<void>;
}

/** The create revision a session's key got, and what the first txn saw of the owner. */
interface Attempt {
  readonly myRevision: bigint;
  readonly created: boolean;
  readonly owner: KeyValue | undefined;
  readonly header: ResponseHeader;
}

export class Mutex extends SessionKeyedRecipe {
  private current: LockHandle | undefined;

  /** The handle of the grant this object holds, if any. */
  get handle(): LockHandle | undefined {
    return this.current;
  }

  /** Waits until this session owns the lock. */
  lock(options?: CallOptions): Promise<LockHandle> {
    return withWaitScope(this.session, options, async (signal) => {
      const attempt = await this.attempt(signal);
      if (attempt.owner === undefined || attempt.owner.createRevision === attempt.myRevision) {
        return this.grant(attempt.myRevision, attempt.header);
      }
      try {
        await waitDeletes(this.client, this.prefix, attempt.myRevision - 1n, signal);
        // The wait ends as well when our own key vanished with the lease: check it is still ours.
        const mine = await this.client.range(this.key, { ...ONE_KEY, signal });
        const kv = keyValueOf(mine.kvs, this.key);
        if (kv === undefined || kv.createRevision !== attempt.myRevision || isSessionGone(this.session)) {
          throw sessionLostError(this.session);
        }
        return this.grant(attempt.myRevision, mine.header);
      } catch (err) {
        // With the session lost the lease removes the key; do not make the caller wait for that.
        if (attempt.created) {
          const cleanup = this.removeKey(attempt.myRevision);
          if (!isSessionGone(this.session)) await cleanup;
        }
        throw err;
      }
    });
  }

  /** Takes the lock if nobody holds it; undefined (and no key left behind) otherwise. */
  tryLock(options?: CallOptions): Promise<LockHandle | undefined> {
    return withWaitScope(this.session, options, async (signal) => {
      const attempt = await this.attempt(signal);
      if (attempt.owner === undefined || attempt.owner.createRevision === attempt.myRevision) {
        return this.grant(attempt.myRevision, attempt.header);
      }
      if (attempt.created) await this.removeKey(attempt.myRevision);
      return undefined;
    });
  }

  /** Releases the grant this object holds; nothing if it holds none. */
  async unlock(options?: CallOptions): Promise<void> {
    await this.current?.unlock(options);
  }

  /**
   * Runs `fn` holding the lock and releases it afterwards (also when `fn` throws). `fn`'s signal
   * aborts with a SessionLostError when the session's lease is lost while `fn` runs: stop
   * touching the protected resource then, and fence every write with `handle.fencingToken`.
   */
  async withLock<T>(fn: (signal: AbortSignal, handle: LockHandle) => Promise<T>, options?: CallOptions): Promise<T> {
    const handle = await this.lock(options);
    let result: T;
    try {
      result = await fn(handle.signal, handle);
    } catch (err) {
      await this.release(handle).catch(() => undefined);
      throw err;
    }
    await this.release(handle);
    return result;
  }

  /**
   * withLock's release: with the session lost the key is gone (or goes with the lease) and the
   * member may be unreachable, so there is nothing to wait for.
   */
  private async release(handle: LockHandle): Promise<void> {
    if (isSessionGone(this.session)) return;
    try {
      await handle.unlock();
    } catch (err) {
      if (!isSessionGone(this.session)) throw err;
    }
  }

  /** clientv3's tryAcquire: create our key unless it exists, and read the oldest key in one txn. */
  private async attempt(signal: AbortSignal): Promise<Attempt> {
    const oldest = Op.get(this.prefix, { prefix: true, sort: { target: 'create', order: 'ascend' }, limit: 1 });
    // Repeating it is harmless: a second run finds the key the first one created.
    const result = await repeatOnOutage(signal, () =>
      this.client
        .txn()
        .if(Compare.createRevision(this.key, '=', 0n))
        .then(Op.put(this.key, '', { lease: this.session.lease }), oldest)
        .else(Op.get(this.key, ONE_KEY), oldest)
        .commit({ signal }),
    );
    const existing = result.succeeded ? undefined : keyValueOf(rangeAt(result.responses, 0).kvs, this.key);
    // The key can vanish between the compare and the read only with the lease: report it lost.
    if (!result.succeeded && existing === undefined) throw sessionLostError(this.session);
    return {
      myRevision: existing === undefined ? result.header.revision : existing.createRevision,
      created: result.succeeded,
      owner: rangeAt(result.responses, 1).kvs[0],
      header: result.header,
    };
  }

  private grant(fencingToken: bigint, header: ResponseHeader): LockHandle {
    const hold = holdSignal(this.session);
    const key = this.key;
    let released = false;
    const handle: LockHandle = {
      key,
      fencingToken,
      header,
      signal: hold.signal,
      isOwner: () => Compare.createRevision(key, '=', fencingToken),
      unlock: async (options?: CallOptions) => {
        if (released) return;
        await this.removeKey(fencingToken, options, true);
        released = true;
        hold.detach();
        if (this.current === handle) this.current = undefined;
      },
    };
    this.current = handle;
    return handle;
  }

  /** Deletes our key if it is still the one created at `createRevision`. */
  private async removeKey(createRevision: bigint, options: CallOptions = { timeoutMs: CLEANUP_TIMEOUT_MS }, mustSucceed = false): Promise<void> {
    const removal = this.client
      .txn()
      .if(Compare.createRevision(this.key, '=', createRevision))
      .then(Op.delete(this.key))
      .commit(options);
    if (mustSucceed) {
      await removal;
      return;
    }
    // Best effort on the way out of a failed wait; the lease removes the key at the latest.
    await removal.catch(() => undefined);
  }
}
