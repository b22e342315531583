import type { Backend } from '../ports/backend.js';
import { decodeKeyRecord, type KeyRecord } from './key-record.js';
import { KeyIndex, NO_LEASE, type IndexedRevision } from './key-index.js';
import { decodeRevisionKey, decodeU64, metaKey, RECORDS_END, RECORDS_START, type Revision } from './revision-key.js';

/** Backend keys of the store's metadata (exported for loaders that write a whole store, e.g. a snapshot restore). */
export const META_REVISION = metaKey('revision');
export const META_COMPACT = metaKey('compact-revision');
export const META_APPLIED = metaKey('applied-index');
/** Present while a restore rewrites the store (its value: the index being restored); found at open, the store is incomplete. */
export const META_RESTORING = metaKey('restoring');

/**
 * What the MvccStore's reads, writes and snapshots share: the Backend, the in-memory key index,
 * and the revisions and applied index as of the last apply.
 */
export class MvccState {
  revision = 1;
  compacted = 0;
  applied = 0;
  /** A restore began and has not finished (in this process, or before a crash): the store is incomplete. */
  restoring = false;
  index = new KeyIndex();

  constructor(readonly backend: Backend) {}

  /** Read the metadata and rebuild the key index from the records. */
  async load(): Promise<void> {
    this.index = new KeyIndex();
    this.restoring = (await this.backend.get(META_RESTORING)) !== undefined;
    // Half old, half new: nothing in it is worth indexing (or trusting) until it is restored again.
    if (this.restoring) return;
    const rev = await this.backend.get(META_REVISION);
    const compact = await this.backend.get(META_COMPACT);
    const applied = await this.backend.get(META_APPLIED);
    this.revision = rev === undefined ? 1 : decodeU64(rev, 'revision');
    this.compacted = compact === undefined ? 0 : decodeU64(compact, 'compact revision');
    this.applied = applied === undefined ? 0 : decodeU64(applied, 'applied index');
    for await (const [k, v] of this.backend.range({ gte: RECORDS_START, lt: RECORDS_END })) {
      const at = decodeRevisionKey(k);
      const r = decodeKeyRecord(v);
      if (at.main > this.revision) throw new Error(`MVCC record at revision ${at.main} is past the store revision ${this.revision}: the store is corrupt`);
      this.index.add(Buffer.from(r.key).toString('latin1'), indexed(at, r));
    }
  }
}

export function indexed(at: Revision, r: KeyRecord): IndexedRevision {
  return {
    main: at.main,
    sub: at.sub,
    tombstone: r.tombstone,
    createRevision: r.createRevision,
    version: r.version,
    lease: r.lease === 0n ? NO_LEASE : r.lease,
  };
}
