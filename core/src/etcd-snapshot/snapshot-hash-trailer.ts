import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The sha256 trailer of a snapshot file. etcd's Maintenance.Snapshot (and Cairn's gRPC frontend)
 * append sha256(database) to the stream, and `etcdctl snapshot save` keeps it. `etcdctl
 * snapshot restore` tells the two apart by size alone: a bbolt file is whole pages (multiples
 * of 512 bytes), so a size of 32 past such a multiple means a trailer. It then refuses a
 * mismatch, and a file without one unless --skip-hash-check (a copy of member/snap/db has none).
 */
export const SNAPSHOT_HASH_BYTES = 32;
const PAGE_SIZE_MULTIPLE = 512;

/** Refused snapshot: no trailer when one is required, or a trailer that does not match. */
export class SnapshotHashError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'SnapshotHashError';
  }
}

export interface SnapshotTrailer {
  /** Bytes of the database itself (the file without its trailer). */
  readonly databaseLength: number;
  readonly hasTrailer: boolean;
  /** Whether the trailer was compared with the contents (false when skipped or absent). */
  readonly verified: boolean;
}

/** Where a snapshot's database ends, judged from its size as etcdctl does. */
export function snapshotTrailerOf(fileSize: number): { databaseLength: number; hasTrailer: boolean } {
  const hasTrailer = fileSize % PAGE_SIZE_MULTIPLE === SNAPSHOT_HASH_BYTES;
  return { databaseLength: hasTrailer ? fileSize - SNAPSHOT_HASH_BYTES : fileSize, hasTrailer };
}

/**
 * Checks the trailer of the snapshot at `path` (of `fileSize` bytes) by streaming the file once.
 * With `skipHashCheck` nothing is read, and a file without a trailer is accepted.
 */
export async function checkSnapshotTrailer(
  path: string,
  fileSize: number,
  skipHashCheck: boolean,
  /** Told the bytes read so far, as the hash goes (a progress bar). */
  onBytes?: (read: number) => void,
): Promise<SnapshotTrailer> {
  const { databaseLength, hasTrailer } = snapshotTrailerOf(fileSize);
  if (skipHashCheck) return { databaseLength, hasTrailer, verified: false };
  if (!hasTrailer) {
    throw new SnapshotHashError(path, 'snapshot has no sha256 trailer (etcdctl snapshot save files carry one); pass --skip-hash-check to restore it anyway');
  }
  const hash = createHash('sha256');
  let trailer = Buffer.alloc(0);
  let seen = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const dataPart = Math.max(0, Math.min(chunk.length, databaseLength - seen));
    if (dataPart > 0) hash.update(chunk.subarray(0, dataPart));
    if (dataPart < chunk.length) trailer = Buffer.concat([trailer, chunk.subarray(dataPart)]);
    seen += chunk.length;
    onBytes?.(seen);
  }
  if (seen !== fileSize) throw new SnapshotHashError(path, `the file changed size while it was read (${fileSize} then ${seen} bytes)`);
  const actual = hash.digest();
  if (!actual.equals(trailer)) {
    throw new SnapshotHashError(
      path,
      `sha256 mismatch: the trailer says ${trailer.toString('hex')}, the contents hash to ${actual.toString('hex')} (the file is damaged)`,
    );
  }
  return { databaseLength, hasTrailer, verified: true };
}
