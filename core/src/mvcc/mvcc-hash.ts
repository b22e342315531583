import { crc32 } from 'node:zlib';
import { EtcdErrors } from '../api/errors.js';
import type { MvccState } from './mvcc-state.js';
import { encodeRevisionKey, RECORDS_START } from './revision-key.js';

/** CRC-32 of every record at or below `revision` (0: current), and the compact revision. */
export async function hashKv(state: MvccState, revision: number): Promise<{ hash: number; revision: number; compactRevision: number }> {
  // The view and the revisions it is compared with are taken together, before any await.
  const view = state.backend.readView();
  const current = state.revision;
  const compacted = state.compacted;
  let hash = 0;
  try {
    const rev = revision > 0 ? revision : current;
    if (rev > current) throw EtcdErrors.futureRevision();
    if (rev < compacted) throw EtcdErrors.compacted();
    for await (const [k, v] of view.range({ gte: RECORDS_START, lt: encodeRevisionKey({ main: rev + 1, sub: 0 }) })) {
      hash = crc32(v, crc32(k, hash));
    }
  } finally {
    view.release();
  }
  return { hash, revision: current, compactRevision: compacted };
}
