/**
 * Leader election in clientv3's layout (concurrency/election.go), interoperable with clientv3's
 * Election, `etcdctl elect` and the server-side Election RPC: each candidate's key is
 * `<prefix>/<lease ID in hex>` holding its value, under its session's lease; the key with the
 * lowest create revision is the leader, and that create revision is the leader's `term` — a
 * fencing token that grows with every new leader.
 *
 * Guarantees: `campaign()` resolves only once every key created before the candidate's is gone
 * and its own key is still there, so at most one campaign holds leadership per term.
 * `proclaim()` and `resign()` act only while the key created at our term still exists (a txn on
 * its create revision), so a deposed leader cannot overwrite its successor's value.
 *
 * Failure: a waiting campaign rejects with the caller's reason, a DeadlineExceededError, or a
 * SessionLostError when its lease is lost (it removes its key when it can). `leadership.signal`
 * aborts with SessionLostError when the lease is lost. `proclaim()` by a candidate that is no
 * longer leader rejects with NotLeaderError. An observer sees, in revision order, every value of
 * each leader key it follows and the next leader after a leader's key is deleted (resign, lease
 * expiry or revocation); after a compaction it re-reads the current leader, so it may skip
 * intermediate values but never reports a stale one after a newer one.
 */
import type { Bytes } from '../bytes.js';
import { toBuffer } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import { CompactedError, GrpcCode, NotLeaderError } from '../errors.js';
import type { KeyValue, ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import { holdSignal, type HoldSignal } from './lease-bound-handle.js';
import { repeatOnOutage } from './repeat-on-outage.js';
import { SessionKeyedRecipe } from './session-key.js';
import { keyValueOf, ONE_KEY, rangeAt } from './txn-results.js';
import { awaitEvent, waitDeletes } from './wait-events.js';
import { isSessionGone, openWaitScope, sessionLostError, withWaitScope } from './wait-scope.js';

export interface Leadership {
  /** The leader key, `<prefix>/<lease hex>`. */
  readonly key: Buffer;
  /** The leader key's create revision: the term, a fencing token larger for every later leader. */
  readonly term: bigint;
  readonly header: ResponseHeader;
  /** Aborts with a SessionLostError when the session's lease is lost: leadership is gone then. */
  readonly signal: AbortSignal;
}

export class Election extends SessionKeyedRecipe {
  private term: bigint | undefined;
  private hold: HoldSignal | undefined;
  private current: Leadership | undefined;

  /** The leadership this object holds (after a campaign, until resign or loss). */
  get leadership(): Leadership | undefined {
    return this.current !== undefined && !this.current.signal.aborted ? this.current : undefined;
  }

  /** Puts `value` as this session's candidacy and waits until it leads. */
  campaign(value: Bytes, options?: CallOptions): Promise<Leadership> {
    return withWaitScope(this.session, options, async (signal) => {
      // Repeating it is harmless: a second run finds the key the first one created.
      const result = await repeatOnOutage(signal, () =>
        this.client
          .txn()
          .if(Compare.createRevision(this.key, '=', 0n))
          .then(Op.put(this.key, value, { lease: this.session.lease }))
          .else(Op.get(this.key, ONE_KEY))
          .commit({ signal }),
      );
      const existing = result.succeeded ? undefined : keyValueOf(rangeAt(result.responses, 0).kvs, this.key);
      if (!result.succeeded && existing === undefined) throw sessionLostError(this.session);
      const term = existing === undefined ? result.header.revision : existing.createRevision;
      this.term = term;
      try {
        if (existing !== undefined && !existing.value.equals(toBuffer(value))) await this.proclaim(value, { signal });
        await waitDeletes(this.client, this.prefix, term - 1n, signal);
        const mine = await this.client.range(this.key, { ...ONE_KEY, signal });
        if (keyValueOf(mine.kvs, this.key)?.createRevision !== term || isSessionGone(this.session)) throw sessionLostError(this.session);
        this.hold?.detach();
        this.hold = holdSignal(this.session);
        this.current = { key: this.key, term, header: mine.header, signal: this.hold.signal };
        return this.current;
      } catch (err) {
        // With the session lost the lease removes the key; do not make the caller wait for that.
        const cleanup = this.resign({ timeoutMs: 5_000 }).catch(() => undefined);
        if (!isSessionGone(this.session)) await cleanup;
        throw err;
      }
    });
  }

  /** A new value from the leader without a new election; NotLeaderError if not (or no longer) leading. */
  async proclaim(value: Bytes, options?: CallOptions): Promise<ResponseHeader> {
    const term = this.term;
    if (term === undefined) throw notLeader();
    const result = await this.client
      .txn()
      .if(Compare.createRevision(this.key, '=', term))
      .then(Op.put(this.key, value, { lease: this.session.lease }))
      .commit(options);
    if (!result.succeeded) {
      this.forget();
      throw notLeader();
    }
    return result.header;
  }

  /** Gives up leadership (or candidacy): deletes the key of our term if it is still there. */
  async resign(options?: CallOptions): Promise<void> {
    const term = this.term;
    if (term === undefined) return;
    await this.client
      .txn()
      .if(Compare.createRevision(this.key, '=', term))
      .then(Op.delete(this.key))
      .commit(options);
    this.forget();
  }

  /** The current leader's key and value, or undefined when nobody leads. */
  async leader(options?: CallOptions): Promise<KeyValue | undefined> {
    const result = await this.client.range(this.prefix, { ...options, ...firstCreated });
    return result.kvs[0];
  }

  /**
   * The leader key-values as they change: the current leader first (waiting for one if there is
   * none), then each new value it proclaims, then the next leader once its key is deleted.
   * Not tied to the session: it ends only when the caller stops iterating or its signal aborts
   * (then it throws the signal's reason).
   */
  async *observe(options?: CallOptions): AsyncGenerator<KeyValue, void, undefined> {
    const scope = openWaitScope(undefined, options);
    const signal = scope.signal;
    let last: KeyValue | undefined;
    try {
      for (;;) {
        const found = await this.client.range(this.prefix, { ...firstCreated, signal });
        let leader = found.kvs[0];
        if (leader === undefined) {
          const event = await awaitEvent(
            this.client,
            this.prefix,
            { prefix: true, startRevision: found.header.revision + 1n },
            signal,
            (e) => e.type === 'put',
          );
          if (event === 'compacted') continue;
          leader = event.kv;
        }
        if (last === undefined || !last.key.equals(leader.key) || last.modRevision < leader.modRevision) {
          last = leader;
          yield leader;
        }
        // Follow the leader key: each put is a proclamation, its deletion ends this leader.
        const watch = this.client.watch(leader.key, { startRevision: leader.modRevision + 1n });
        const stop = (): void => watch.close();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const event of watch) {
            if (event.type === 'delete') break;
            last = event.kv;
            yield event.kv;
          }
        } catch (err) {
          if (!(err instanceof CompactedError) || signal.aborted) throw err;
        } finally {
          signal.removeEventListener('abort', stop);
          watch.close();
        }
        signal.throwIfAborted();
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      scope.dispose();
    }
  }

  private forget(): void {
    this.term = undefined;
    this.current = undefined;
    this.hold?.detach();
    this.hold = undefined;
  }
}

const firstCreated = { prefix: true, sort: { target: 'create', order: 'ascend' }, limit: 1 } as const;

function notLeader(): NotLeaderError {
  return new NotLeaderError(GrpcCode.FailedPrecondition, 'election: not leader', '');
}
