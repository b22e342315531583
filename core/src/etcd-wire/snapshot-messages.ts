import { createHash } from 'node:crypto';
import type { WireResponseHeader, WireSnapshotResponse } from './wire-types.js';

/** etcd sends a snapshot in blobs of this size (its snapshotSendBufferSize). */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

/**
 * etcd's Snapshot stream from the backend's bytes: blobs of SNAPSHOT_CHUNK_BYTES, then one last
 * message whose blob is the SHA-256 of all the data, which `etcdctl snapshot restore` checks.
 * The service does not say the total size up front, so while data still arrives
 * `remaining_bytes` counts the bytes already read but not yet sent (a lower bound); it is exact
 * from the moment the data has ended and 0 on the last data blob and on the digest.
 */
export async function* snapshotMessages(data: AsyncIterable<Uint8Array>, header: WireResponseHeader): AsyncGenerator<WireSnapshotResponse> {
  const sha256 = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (size: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const blob = all.subarray(0, size);
    const rest = all.subarray(size);
    pending = rest.length > 0 ? [rest] : [];
    pendingBytes = rest.length;
    sha256.update(blob);
    return blob;
  };
  for await (const chunk of data) {
    if (chunk.length === 0) continue;
    // Copy: the source may reuse its buffer once we ask for the next chunk.
    pending.push(Buffer.from(chunk));
    pendingBytes += chunk.length;
    // Keep at least one byte back, so the last data blob is only sent once the data has ended.
    while (pendingBytes > SNAPSHOT_CHUNK_BYTES) {
      const blob = take(SNAPSHOT_CHUNK_BYTES);
      yield { header, remaining_bytes: pendingBytes, blob };
    }
  }
  while (pendingBytes > 0) {
    const blob = take(Math.min(SNAPSHOT_CHUNK_BYTES, pendingBytes));
    yield { header, remaining_bytes: pendingBytes, blob };
  }
  yield { header, remaining_bytes: 0, blob: sha256.digest() };
}
