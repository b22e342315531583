import { EtcdErrors } from '../api/errors.js';
import { SortTarget, type KeyValue, type RangeRequest, type RangeResponse } from '../api/kv-types.js';
import { keyBytes, keyInterval } from '../api/key-interval.js';
import type { ResponseHeaders } from '../api/response-headers.js';
import { decodeKeyRecord, toKeyValue, type KeyRecord } from './key-record.js';
import { NO_LEASE, type IndexedRevision } from './key-index.js';
import type { MvccState } from './mvcc-state.js';
import { needsEveryMatch, passesRevisionFilters, sortKeyValues } from './range-query.js';
import { decodeRevisionKey, encodeRevisionKey, revisionKeyString, type Revision } from './revision-key.js';
import { innerHeader, type WriteBatch } from './write-batch.js';

/** Revisions from one point up to `revision`, pinned when `MvccStore.historyView()` returned. */
export interface HistoryView {
  readonly revision: number;
  readonly compactRevision: number;
  records(): AsyncIterable<{ at: Revision; record: KeyRecord }>;
  release(): void;
}

const EMPTY = new Uint8Array(0);
/** Backend reads a range keeps in flight at once. */
const READS_IN_FLIGHT = 64;

/** The MvccStore's reads: ranges (alone or inside a txn), single records, and the history watchers catch up from. */
export class MvccReads {
  constructor(
    private readonly state: MvccState,
    private readonly headers: ResponseHeaders,
  ) {}

  /** A range at `current`; inside a write (`batch`), it sees the batch's own records and gets an inner header. */
  async rangeAt(r: RangeRequest, current: number, batch: WriteBatch | undefined): Promise<RangeResponse> {
    const { index } = this.state;
    const rev = (r.revision ?? 0) > 0 ? r.revision! : current;
    if (rev > current) throw EtcdErrors.futureRevision();
    if (rev < this.state.compacted) throw EtcdErrors.compacted();
    const { start, end } = keyInterval(r.key, r.rangeEnd);
    // Collected synchronously: the index cannot change under us until the first await.
    const matches: [string, IndexedRevision][] = [];
    for (const key of index.keysInRange(start, end)) {
      const live = index.liveAt(key, rev);
      if (live !== undefined) matches.push([key, live]);
    }
    const header = batch === undefined ? this.headers.header(current) : innerHeader(current);
    const count = matches.length;
    if (r.countOnly === true) return { header, kvs: [], more: false, count };

    const limit = r.limit ?? 0;
    const everything = needsEveryMatch(r);
    const selected = everything || limit <= 0 ? matches : matches.slice(0, limit);
    const needValues = r.keysOnly !== true || r.sortTarget === SortTarget.Value;
    const passing = selected.filter(([, at]) => passesRevisionFilters(r, { modRevision: at.main, createRevision: at.createRevision }));
    let kvs: KeyValue[] = [];
    if (!needValues) {
      for (const [key, at] of passing)
        kvs.push({ key: keyBytes(key), value: EMPTY, createRevision: at.createRevision, modRevision: at.main, version: at.version, lease: at.lease });
    } else {
      // Values are read a chunk at a time, in order: one get after another would leave an engine
      // whose reads run on a thread pool (LevelDB) idle between them.
      for (let i = 0; i < passing.length; i += READS_IN_FLIGHT) {
        const chunk = passing.slice(i, i + READS_IN_FLIGHT);
        const records = await Promise.all(chunk.map(([, at]) => this.readRecord(at, batch)));
        for (let j = 0; j < chunk.length; j++) kvs.push(toKeyValue(records[j]!, chunk[j]![1].main));
      }
    }
    if (everything) sortKeyValues(kvs, r);
    let more = false;
    if (limit > 0 && (everything ? kvs.length : count) > limit) {
      more = true;
      kvs = kvs.slice(0, limit);
    }
    if (r.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
    return { header, kvs, more, count };
  }

  /** The record stored at `at`: the batch's own if it wrote it, else the Backend's. */
  async readRecord(at: Revision, batch: WriteBatch | undefined): Promise<KeyRecord> {
    const own = batch?.written.get(revisionKeyString(at));
    if (own !== undefined) return own;
    const bytes = await this.state.backend.get(encodeRevisionKey(at));
    // Only a compaction that ran while this read waited can have removed a revision it chose.
    if (bytes === undefined) throw EtcdErrors.compacted();
    return decodeKeyRecord(bytes);
  }

  /** See `MvccStore.historyView`. */
  historyView(from: number): HistoryView | undefined {
    const state = this.state;
    if (state.restoring) return undefined;
    const view = state.backend.readView();
    const through = state.revision;
    return {
      revision: through,
      compactRevision: state.compacted,
      async *records() {
        const range = { gte: encodeRevisionKey({ main: from, sub: 0 }), lt: encodeRevisionKey({ main: through + 1, sub: 0 }) };
        for await (const [k, v] of view.range(range)) yield { at: decodeRevisionKey(k), record: decodeKeyRecord(v) };
      },
      release: () => view.release(),
    };
  }

  /** See `MvccStore.leasedKeys`. */
  *leasedKeys(): Iterable<[string, bigint]> {
    for (const key of this.state.index.keysInRange('', '')) {
      const live = this.state.index.liveAt(key, Infinity);
      if (live !== undefined && live.lease !== NO_LEASE) yield [key, live.lease];
    }
  }
}
