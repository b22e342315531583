/**
 * Software transactional memory over etcd, with the isolation levels of clientv3's
 * concurrency/stm.go: `apply` reads and writes through a transaction object; its writes are
 * buffered and committed in one txn whose compares fail if a key it read (and, for
 * serializable-snapshot, a key it writes) changed meanwhile; on such a conflict `apply` runs
 * again from scratch, at most `maxAttempts` times, then StmConflictError.
 *
 * Isolation levels (as clientv3 defines them):
 * - 'serializable-snapshot' (default): every read is at the revision of the first read of the
 *   attempt; the commit requires each read key's mod revision to be unchanged and each written
 *   key not to have been modified after that first read (no write skew on written keys).
 * - 'serializable': reads at the first read's revision; the commit checks the read keys only.
 * - 'repeatable-read': each key is read once per attempt (at the latest revision then), and the
 *   commit checks the read keys only.
 * - 'read-committed': reads as repeatable-read, and the commit checks nothing (never conflicts).
 *
 * Failure: `apply` may run several times, so it must have no side effects beyond the
 * transaction object; an error thrown by `apply` (or an RPC failure) ends the stm with that error
 * and nothing is written. A read at a revision compacted meanwhile counts as a conflict.
 */
import type { Bytes } from '../bytes.js';
import { toBuffer } from '../bytes.js';
import type { CallOptions } from '../call-options.js';
import type { Client } from '../client.js';
import { CompactedError } from '../errors.js';
import type { KeyValue, ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import { StmConflictError } from './recipe-errors.js';
import { keyValueOf, ONE_KEY, rangeAt } from './txn-results.js';
import { withWaitScope } from './wait-scope.js';

export type StmIsolation = 'serializable-snapshot' | 'serializable' | 'repeatable-read' | 'read-committed';

export interface StmOptions extends CallOptions {
  /** Default 'serializable-snapshot', as clientv3's NewSTM. */
  isolation?: StmIsolation;
  /** How many times `apply` may run before StmConflictError (default 16). */
  maxAttempts?: number;
  /** Keys read at the start of every attempt in one round trip. */
  prefetch?: Bytes[];
}

export interface StmTransaction {
  /** The key's value as UTF-8 (this transaction's own write first), undefined if absent. */
  get(key: Bytes): Promise<string | undefined>;
  /** The key's value as bytes (this transaction's own write first), undefined if absent. */
  getBytes(key: Bytes): Promise<Buffer | undefined>;
  /** The mod revision of the key as read by this transaction (0n if absent). */
  rev(key: Bytes): Promise<bigint>;
  put(key: Bytes, value: Bytes, options?: { lease?: bigint }): void;
  delete(key: Bytes): void;
}

export interface StmResult<T> {
  /** What `apply` returned in the attempt that committed. */
  readonly value: T;
  /** The header of the committing txn. */
  readonly header: ResponseHeader;
  /** How many times `apply` ran. */
  readonly attempts: number;
}

export const DEFAULT_STM_MAX_ATTEMPTS = 16;

interface Read {
  readonly key: Buffer;
  readonly kv: KeyValue | undefined;
  readonly revision: bigint;
}

type Write = { readonly key: Buffer; readonly value: Buffer; readonly lease?: bigint } | { readonly key: Buffer; readonly deleted: true };

/** Thrown through `apply` when a read hits a compacted revision: the attempt restarts. */
class AttemptInvalid extends Error {}

class StmAttempt implements StmTransaction {
  readonly reads = new Map<string, Read>();
  readonly writes = new Map<string, Write>();
  private baseRevision: bigint | undefined;

  constructor(
    private readonly client: Client,
    private readonly isolation: StmIsolation,
    private readonly signal: AbortSignal,
    private readonly prefetched: Map<string, Read>,
  ) {}

  private get pinned(): boolean {
    return this.isolation === 'serializable' || this.isolation === 'serializable-snapshot';
  }

  async get(key: Bytes): Promise<string | undefined> {
    return (await this.getBytes(key))?.toString('utf8');
  }

  async getBytes(key: Bytes): Promise<Buffer | undefined> {
    const buffer = toBuffer(key);
    const write = this.writes.get(buffer.toString('hex'));
    if (write !== undefined) return 'deleted' in write ? undefined : write.value;
    return (await this.read(buffer)).kv?.value;
  }

  async rev(key: Bytes): Promise<bigint> {
    return (await this.read(toBuffer(key))).kv?.modRevision ?? 0n;
  }

  put(key: Bytes, value: Bytes, options: { lease?: bigint } = {}): void {
    const buffer = toBuffer(key);
    this.writes.set(buffer.toString('hex'), {
      key: buffer,
      value: Buffer.from(toBuffer(value)),
      ...(options.lease === undefined ? {} : { lease: options.lease }),
    });
  }

  delete(key: Bytes): void {
    const buffer = toBuffer(key);
    this.writes.set(buffer.toString('hex'), { key: buffer, deleted: true });
  }

  /** Reads each key once per attempt; pinned levels read at the first read's revision. */
  async read(key: Buffer): Promise<Read> {
    const id = key.toString('hex');
    const known = this.reads.get(id);
    if (known !== undefined) return known;
    let read = this.pinned ? this.prefetched.get(id) : undefined;
    if (read !== undefined) {
      this.prefetched.delete(id);
    } else {
      try {
        const result = await this.client.range(key, {
          ...ONE_KEY,
          signal: this.signal,
          ...(this.pinned && this.baseRevision !== undefined ? { revision: this.baseRevision } : {}),
        });
        read = { key, kv: keyValueOf(result.kvs, key), revision: result.header.revision };
      } catch (err) {
        if (err instanceof CompactedError) throw new AttemptInvalid();
        throw err;
      }
    }
    if (this.pinned && this.baseRevision === undefined) this.baseRevision = read.revision;
    this.reads.set(id, read);
    return read;
  }

  /** The compares that make the commit fail if what the attempt relied on changed. */
  conflicts() {
    if (this.isolation === 'read-committed') return [];
    const compares = [...this.reads.values()].map((read) => Compare.modRevision(read.key, '=', read.kv?.modRevision ?? 0n));
    if (this.isolation === 'serializable-snapshot' && this.reads.size > 0) {
      const first = [...this.reads.values()].reduce((min, read) => (read.revision < min ? read.revision : min), this.reads.values().next().value!.revision);
      for (const write of this.writes.values()) compares.push(Compare.modRevision(write.key, '<', first + 1n));
    }
    return compares;
  }

  operations() {
    return [...this.writes.values()].map((write) =>
      'deleted' in write ? Op.delete(write.key) : Op.put(write.key, write.value, write.lease === undefined ? {} : { lease: write.lease }),
    );
  }
}

/** Runs `apply` as one atomic, isolated transaction, retrying it on conflict. */
export function stm<T>(client: Client, apply: (tx: StmTransaction) => Promise<T>, options: StmOptions = {}): Promise<StmResult<T>> {
  const isolation = options.isolation ?? 'serializable-snapshot';
  const maxAttempts = options.maxAttempts ?? DEFAULT_STM_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    return Promise.reject(new RangeError(`stm: maxAttempts must be a positive integer, got ${maxAttempts}`));
  const prefetch = (options.prefetch ?? []).map(toBuffer);
  return withWaitScope(undefined, options, async (signal) => {
    // Serializable levels load the read set of a failed commit from its else branch, saving a round trip.
    let prefetched = new Map<string, Read>();
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const tx = new StmAttempt(client, isolation, signal, prefetched);
      let value: T;
      try {
        for (const key of prefetch) await tx.read(key);
        value = await apply(tx);
      } catch (err) {
        if (err instanceof AttemptInvalid) {
          prefetched = new Map();
          continue;
        }
        throw err;
      }
      const reads = [...tx.reads.values()];
      const pinned = isolation === 'serializable' || isolation === 'serializable-snapshot';
      const result = await client
        .txn()
        .if(...tx.conflicts())
        .then(...tx.operations())
        .else(...(pinned ? reads.map((read) => Op.get(read.key, ONE_KEY)) : []))
        .commit({ signal });
      if (result.succeeded) return { value, header: result.header, attempts: attempt };
      prefetched = new Map();
      if (pinned) {
        reads.forEach((read, index) => {
          prefetched.set(read.key.toString('hex'), {
            key: read.key,
            kv: keyValueOf(rangeAt(result.responses, index).kvs, read.key),
            revision: result.header.revision,
          });
        });
      }
      await backoff(attempt, signal);
    }
    throw new StmConflictError(maxAttempts);
  });
}

/** A short random pause after a conflict, growing with the attempt, so that contenders spread out. */
function backoff(attempt: number, signal: AbortSignal): Promise<void> {
  const ms = Math.random() * Math.min(2 ** attempt, 100);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
