import { inject, injectable } from 'inversify';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { CommitFeed } from './commit-feed.js';
import { RaftKvService } from './kv-service.js';
import { EtcdErrors } from '../api/errors.js';
import { SortOrder, SortTarget, type RangeRequest, type RangeResponse, type ResponseHeader } from '../api/kv-types.js';
import type { KvService } from '../api/services.js';

/** A snapshot install applies no events: waiters also look again this often. */
const RECHECK_MS = 1000;

/** The end of the range of every key starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Uint8Array.of(0);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** The oldest key under `prefix` (etcd's WithFirstCreate). */
export function firstCreated(prefix: Uint8Array): RangeRequest {
  return { key: prefix, rangeEnd: prefixRangeEnd(prefix), sortOrder: SortOrder.Ascend, sortTarget: SortTarget.Create, limit: 1 };
}

/** An error for a wait the caller gave up on (the client cancelled its call). */
export function cancelled(): Error {
  return EtcdErrors.timeout();
}

/**
 * The waits of etcd's lock and election recipes, served by the member: "until this key is
 * deleted" and "until every key under a prefix created before a revision is gone".
 */
@injectable()
export class PrefixWaits {
  constructor(
    @inject(RaftKvService) private readonly kv: KvService,
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(CommitFeed) private readonly feed: CommitFeed,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Resolves when every key under `prefix` with a create revision ≤ `maxCreateRevision` is gone
   * (etcd's waitDeletes): each round reads the newest such key linearizably and waits for its
   * deletion. Resolves with the header of the read that found none.
   */
  async deletesBefore(prefix: Uint8Array, maxCreateRevision: number, signal?: AbortSignal): Promise<ResponseHeader> {
    for (;;) {
      const r: RangeResponse = await this.kv.range({
        key: prefix,
        rangeEnd: prefixRangeEnd(prefix),
        sortOrder: SortOrder.Descend,
        sortTarget: SortTarget.Create,
        maxCreateRevision,
        limit: 1,
      });
      const newest = r.kvs[0];
      if (newest === undefined) return r.header;
      await this.deleted(newest.key, signal);
    }
  }

  /** Resolves once this member has applied the deletion of `key` (or finds it absent). */
  deleted(key: Uint8Array, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        unsubscribe();
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => finish(cancelled());
      const unsubscribe = this.feed.subscribe((events) => {
        if (events.some((e) => e.type === 'delete' && sameBytes(e.kv.key, key))) finish();
      });
      const look = (): void => {
        void this.store.range({ key, serializable: true, countOnly: true }).then(
          (r) => {
            if (r.count === 0) finish();
          },
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
      };
      const timer = this.clock.setInterval(look, RECHECK_MS);
      if (signal?.aborted === true) return finish(cancelled());
      signal?.addEventListener('abort', onAbort);
      look();
    });
  }
}
