import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { LogStore } from '../../../ports/log-store.js';
import type { StoredSnapshot } from '../../../ports/snapshot-store.js';
import type { StableState } from '../../../ports/stable-store.js';
import type { Entry, SnapshotMeta } from '../../../protocol/raft-types.js';
import type { LogModel } from './log-model.js';

/**
 * What a store holds, small enough to pass from a child process as one JSON line: entries and
 * snapshot data by digest.
 */
export interface LogSummary {
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** term(firstIndex - 1). */
  readonly offsetTerm: number | null;
  /** [index, term, type, bytes, sha256 of data] per entry. */
  readonly entries: readonly (readonly [number, number, number, number, string])[];
}

export interface SnapshotSummary {
  readonly meta: SnapshotMeta;
  readonly size: number;
  /** Bytes read() yielded, and their sha256. */
  readonly bytesRead: number;
  readonly sha256: string;
}

export type StoreSummary =
  | { readonly kind: 'log'; readonly log: LogSummary }
  | { readonly kind: 'stable'; readonly state: StableState | null }
  | { readonly kind: 'snapshot'; readonly snapshot: SnapshotSummary | null };

const digest = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const summarizeEntry = (e: Entry): readonly [number, number, number, number, string] => [e.index, e.term, e.type, e.data.byteLength, digest(e.data)];

export async function summarizeLogStore(store: LogStore): Promise<LogSummary> {
  const firstIndex = store.firstIndex();
  const lastIndex = store.lastIndex();
  const entries: (readonly [number, number, number, number, string])[] = [];
  for (let lo = firstIndex; lo <= lastIndex;) {
    const page = await store.entries(lo, Math.min(lastIndex + 1, lo + 1024));
    if (page.length === 0) throw new Error(`entries(${lo}, ...) returned nothing`);
    entries.push(...page.map(summarizeEntry));
    lo += page.length;
  }
  return { firstIndex, lastIndex, offsetTerm: (await store.term(firstIndex - 1)) ?? null, entries };
}

export function summarizeLogModel(model: LogModel): LogSummary {
  return { firstIndex: model.firstIndex, lastIndex: model.lastIndex, offsetTerm: model.offsetTerm, entries: model.entries.map(summarizeEntry) };
}

export async function summarizeSnapshot(latest: StoredSnapshot): Promise<SnapshotSummary> {
  const hash = createHash('sha256');
  let bytesRead = 0;
  for await (const chunk of latest.read()) {
    hash.update(chunk);
    bytesRead += chunk.byteLength;
  }
  return { meta: latest.meta, size: latest.size, bytesRead, sha256: hash.digest('hex') };
}

/** Why `actual` differs from `expected`, or undefined when they are the same. */
export function logSummaryDifference(actual: LogSummary, expected: LogSummary): string | undefined {
  if (actual.firstIndex !== expected.firstIndex || actual.lastIndex !== expected.lastIndex) {
    return `holds [${actual.firstIndex}, ${actual.lastIndex}], expected [${expected.firstIndex}, ${expected.lastIndex}]`;
  }
  if (actual.offsetTerm !== expected.offsetTerm) return `term(firstIndex - 1) is ${actual.offsetTerm}, expected ${expected.offsetTerm}`;
  for (let i = 0; i < expected.entries.length; i++) {
    if (!isDeepStrictEqual(actual.entries[i], expected.entries[i])) {
      const [index, term, type, bytes] = expected.entries[i]!;
      return `entry ${index} differs: got ${JSON.stringify(actual.entries[i]?.slice(0, 4))}, expected ${JSON.stringify([index, term, type, bytes])} (index, term, type, bytes) or its data differs`;
    }
  }
  return undefined;
}
