import { inject, injectable } from 'inversify';
import { BACKEND, type Backend, type BackendOp } from '../ports/backend.js';
import type { LeaseLookup, MvccEvent } from '../mvcc/mvcc-store.js';
import { metaKey } from '../mvcc/revision-key.js';

/** A granted lease as every member records it. */
export interface LeaseRecord {
  readonly id: bigint;
  /** Granted TTL in seconds (the minimum already applied). */
  readonly ttl: number;
  /** The last checkpointed remaining TTL in ms (etcd's remainingTTL); absent when the lease has its whole TTL. */
  readonly remainingMs?: number;
}

/** The record as the Backend holds it (JSON). */
interface StoredLease {
  readonly id: string;
  readonly ttl: number;
  readonly remainingMs?: number;
}

const PREFIX = 'lease/';
/** '0' follows '/' in ASCII: [lease/, lease0) holds exactly the lease records. */
const RANGE = { gte: metaKey(PREFIX), lt: metaKey('lease0') };

/** The record's Backend key: the ID as 16 hex digits of its two's complement, so each int64 has one key. */
const recordKey = (id: bigint): Uint8Array => metaKey(PREFIX + BigInt.asUintN(64, id).toString(16).padStart(16, '0'));

function putRecord(record: LeaseRecord): BackendOp {
  const stored: StoredLease = { id: record.id.toString(), ttl: record.ttl, ...(record.remainingMs === undefined ? {} : { remainingMs: record.remainingMs }) };
  return { type: 'put', key: recordKey(record.id), value: Buffer.from(JSON.stringify(stored), 'utf8') };
}

const latin1 = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

/**
 * The cluster's leases and the keys attached to them: the replicated half of the lessor. Records
 * change only by applied Raft entries and live in the Backend beside the MVCC metadata (so
 * restarts and snapshots carry them); attachments are not stored twice: they are what the MVCC
 * index says (each live key's lease), rebuilt from it at open and followed through its commits.
 */
@injectable()
export class LeaseStore implements LeaseLookup {
  private leases = new Map<bigint, LeaseRecord>();
  private keysOf = new Map<bigint, Set<string>>();
  private leaseOf = new Map<string, bigint>();

  constructor(@inject(BACKEND) private readonly backend: Backend) {}

  /** Read the records, and attach the live leased keys (at open, and after a snapshot replaced the state). */
  async load(leasedKeys: Iterable<readonly [string, bigint]>): Promise<void> {
    this.leases = new Map();
    this.keysOf = new Map();
    this.leaseOf = new Map();
    for await (const [, v] of this.backend.range(RANGE)) {
      const stored = JSON.parse(Buffer.from(v).toString('utf8')) as StoredLease;
      const id = BigInt(stored.id);
      const remaining = stored.remainingMs ?? 0;
      this.leases.set(id, remaining > 0 ? { id, ttl: stored.ttl, remainingMs: remaining } : { id, ttl: stored.ttl });
    }
    for (const [key, lease] of leasedKeys) this.attach(key, lease);
  }

  exists(id: bigint): boolean {
    return this.leases.has(id);
  }

  get(id: bigint): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  all(): LeaseRecord[] {
    return [...this.leases.values()];
  }

  /** The keys attached to `id`, in key order (the order a revoke deletes them, on every member alike). */
  keys(id: bigint): Uint8Array[] {
    return [...(this.keysOf.get(id) ?? [])].sort().map((k) => Buffer.from(k, 'latin1'));
  }

  /** The Backend write of a grant; the store changes with it. */
  grant(record: LeaseRecord): BackendOp[] {
    this.leases.set(record.id, record);
    return [putRecord(record)];
  }

  /**
   * The Backend write of a checkpoint of `id` (0 clears it): none when the lease is gone or the
   * record already says so. The store changes with it.
   */
  checkpoint(id: bigint, remainingMs: number): BackendOp[] {
    const lease = this.leases.get(id);
    const remaining = Math.max(0, Math.round(remainingMs));
    if (lease === undefined || (lease.remainingMs ?? 0) === remaining) return [];
    const record: LeaseRecord = remaining > 0 ? { id, ttl: lease.ttl, remainingMs: remaining } : { id, ttl: lease.ttl };
    this.leases.set(id, record);
    return [putRecord(record)];
  }

  /** The Backend write of a revoke's lease removal (its keys are deleted by the MVCC store, in the same batch). */
  revokeOps(id: bigint): BackendOp[] {
    return [{ type: 'del', key: recordKey(id) }];
  }

  /** Forget a revoked lease, once its batch is written. */
  forget(id: bigint): void {
    this.leases.delete(id);
    for (const key of this.keysOf.get(id) ?? []) this.leaseOf.delete(key);
    this.keysOf.delete(id);
  }

  /** Follow one committed write: a put attaches its key to its lease (detaching it from any other), a delete detaches it. */
  observe(events: readonly MvccEvent[]): void {
    for (const event of events) {
      const key = latin1(event.kv.key);
      const lease = event.type === 'put' ? event.kv.lease : 0n;
      const before = this.leaseOf.get(key);
      if (before === lease) continue;
      if (before !== undefined) this.detach(key, before);
      if (lease !== 0n) this.attach(key, lease);
    }
  }

  private attach(key: string, lease: bigint): void {
    let keys = this.keysOf.get(lease);
    if (keys === undefined) {
      keys = new Set();
      this.keysOf.set(lease, keys);
    }
    keys.add(key);
    this.leaseOf.set(key, lease);
  }

  private detach(key: string, lease: bigint): void {
    this.leaseOf.delete(key);
    const keys = this.keysOf.get(lease);
    keys?.delete(key);
    if (keys?.size === 0) this.keysOf.delete(lease);
  }
}
