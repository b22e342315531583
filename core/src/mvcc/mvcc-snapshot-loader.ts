import type { Backend, BackendOp } from '../ports/backend.js';
import type { SnapshotRecordSource } from '../etcd-snapshot/etcd-snapshot-file.js';
import { encodeKeyRecord } from './key-record.js';
import { META_APPLIED, META_COMPACT, META_REVISION, MvccStore } from './mvcc-store.js';
import { encodeRevisionKey, encodeU64 } from './revision-key.js';

/** Keeps each batch (and so what the backend must hold in one transaction) small, whatever the store's size. */
export const SNAPSHOT_LOAD_BATCH_OPS = 1000;
export const SNAPSHOT_LOAD_BATCH_BYTES = 4 * 1024 * 1024;

export interface SnapshotLoadSource extends SnapshotRecordSource {
  /** A compaction that was scheduled but not finished when the snapshot was taken (0: none). */
  readonly scheduledCompactRevision?: number;
}

export interface SnapshotLoadOptions {
  readonly batchOps?: number;
  readonly batchBytes?: number;
}

export interface SnapshotLoadResult {
  /** Stored revisions written (puts and tombstones). */
  readonly records: number;
  /** The store revision: the next write gets this plus one. */
  readonly revision: number;
  readonly compactRevision: number;
}

/**
 * Writes a snapshot's MVCC records into an empty Backend in the MvccStore's layout, in bounded
 * batches, so a store larger than memory loads too (MvccStore.restore builds one batch). The
 * metadata goes in last: the store revision (the newest record, or the compact revision if that
 * is newer — a compaction may have removed the newest tombstones — as etcd computes it), the
 * compact revision, and applied index 0, since the member then starts a new Raft log.
 * A compaction the snapshot had only scheduled is finished afterwards, as etcd does on restore.
 */
export async function loadSnapshotIntoBackend(backend: Backend, source: SnapshotLoadSource, options: SnapshotLoadOptions = {}): Promise<SnapshotLoadResult> {
  const batchOps = options.batchOps ?? SNAPSHOT_LOAD_BATCH_OPS;
  const batchBytes = options.batchBytes ?? SNAPSHOT_LOAD_BATCH_BYTES;
  for await (const _ of backend.range({ limit: 1 })) throw new Error('the backend already holds data; a snapshot loads only into an empty one');

  let ops: BackendOp[] = [];
  let bytes = 0;
  let records = 0;
  let lastMain = 0;
  for await (const record of source.records()) {
    if (record.main < lastMain) throw new Error(`snapshot records out of order: revision ${record.main} after ${lastMain}`);
    lastMain = record.main;
    const key = encodeRevisionKey({ main: record.main, sub: record.sub });
    const value = encodeKeyRecord(record);
    ops.push({ type: 'put', key, value });
    bytes += key.length + value.length;
    records++;
    if (ops.length >= batchOps || bytes >= batchBytes) {
      await backend.write(ops);
      ops = [];
      bytes = 0;
    }
  }
  const compacted = source.compactRevision;
  const revision = Math.max(1, lastMain, compacted);
  ops.push({ type: 'put', key: META_REVISION, value: encodeU64(revision) });
  if (compacted > 0) ops.push({ type: 'put', key: META_COMPACT, value: encodeU64(compacted) });
  ops.push({ type: 'put', key: META_APPLIED, value: encodeU64(0) });
  await backend.write(ops);

  let compactRevision = compacted;
  const scheduled = source.scheduledCompactRevision ?? 0;
  if (scheduled > compacted && scheduled <= revision) {
    const store = await MvccStore.open(backend, { header: (rev) => ({ clusterId: 0n, memberId: 0n, revision: rev, raftTerm: 0 }) });
    const outcome = await store.compact(0, scheduled);
    if ('error' in outcome) throw new Error(`finishing the snapshot's scheduled compaction at ${scheduled} failed: ${outcome.error.message}`);
    compactRevision = scheduled;
  }
  await backend.flush();
  return { records, revision, compactRevision };
}
