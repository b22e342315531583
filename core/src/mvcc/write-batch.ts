import type { BackendOp } from '../ports/backend.js';
import type { KeyValue, ResponseHeader } from '../api/kv-types.js';
import type { KeyRecord } from './key-record.js';

/** One change made by a committed write, in order (what watchers will be sent). */
export interface MvccEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key and its mod revision (the delete's revision). */
  readonly kv: KeyValue;
}

/**
 * Reads and writes of one apply: writes go to `ops` (one atomic backend batch at the end), the
 * index is updated as they are made so later operations of the same txn see them.
 */
export class WriteBatch {
  readonly ops: BackendOp[] = [];
  readonly written = new Map<string, KeyRecord>();
  readonly events: MvccEvent[] = [];
  sub = 0;

  constructor(readonly revision: number) {}

  get changed(): boolean {
    return this.sub > 0;
  }
}

/**
 * Responses inside a txn carry only the revision, as etcd's do; the outermost response gets the
 * member's full header when the write completes.
 */
export function innerHeader(revision: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 };
}
