import { inject, injectable, optional, unmanaged } from 'inversify';
import type { SnapshotStore, StoredSnapshot } from '../ports/snapshot-store.js';
import type { SnapshotMeta } from '../protocol/raft-types.js';
import { MEMORY_DISK, MemoryDisk } from './memory-disk.js';

interface SnapshotRecord {
  readonly meta: SnapshotMeta;
  readonly chunks: readonly Uint8Array[];
  readonly size: number;
  readonly checksum: number;
  /** Order of completion: the latest is the most recently saved. */
  readonly seq: number;
}

export interface MemorySnapshotStoreOptions {
  /** How many of the most recently saved snapshots to keep (default 2). */
  readonly retain?: number;
}

/** FNV-1a over the data: detects a flipped byte, which is all a memory store can suffer. */
function checksumOf(chunks: readonly Uint8Array[]): number {
  let h = 0x811c9dc5;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) h = Math.imul(h ^ c[i]!, 0x01000193) >>> 0;
  }
  return h;
}

const nameOf = (meta: SnapshotMeta): string => `memory://snapshots/${meta.term}-${meta.index}.snap`;

const newer = (a: SnapshotRecord, b: SnapshotRecord): boolean => a.seq > b.seq;

/**
 * Snapshots in memory. The newest is the most recently saved one; a snapshot becomes visible only
 * once its save resolves, and a crash keeps exactly the snapshots whose saves had resolved.
 */
@injectable()
export class MemorySnapshotStore implements SnapshotStore {
  private records: SnapshotRecord[];
  private seq = 0;
  private readonly retain: number;
  /** Number of save calls, for tests that check what a member stores. */
  saveCalls = 0;

  constructor(
    @inject(MEMORY_DISK) @optional() private readonly disk: MemoryDisk = new MemoryDisk(),
    @unmanaged() private readonly options: MemorySnapshotStoreOptions = {},
    @unmanaged() initial: readonly SnapshotRecord[] = [],
  ) {
    this.retain = Math.max(1, options.retain ?? 2);
    this.records = initial.slice();
    this.seq = initial.reduce((m, r) => Math.max(m, r.seq + 1), 0);
  }

  async open(): Promise<void> {
    /* nothing to acquire */
  }
  async close(): Promise<void> {
    /* nothing to release */
  }

  /** A fresh store on `disk` holding only what this one had made durable. */
  recover(disk: MemoryDisk): MemorySnapshotStore {
    return new MemorySnapshotStore(disk, this.options, this.records);
  }

  async save(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.saveCalls++;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of data) {
      chunks.push(chunk.slice());
      size += chunk.length;
    }
    const frozen: SnapshotMeta = {
      index: meta.index,
      term: meta.term,
      confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
    };
    await this.disk.write(() => {
      const record: SnapshotRecord = { meta: frozen, chunks, size, checksum: checksumOf(chunks), seq: this.seq++ };
      const kept = [...this.records, record].sort((a, b) => (newer(a, b) ? -1 : 1));
      this.records = kept.slice(0, this.retain);
    });
  }

  async latest(): Promise<StoredSnapshot | undefined> {
    let best: SnapshotRecord | undefined;
    for (const r of this.records) if (best === undefined || newer(r, best)) best = r;
    if (best === undefined) return undefined;
    if (checksumOf(best.chunks) !== best.checksum) {
      throw new Error(`snapshot ${nameOf(best.meta)} is corrupt: checksum mismatch`);
    }
    const record = best;
    return {
      meta: record.meta,
      size: record.size,
      read: async function* () {
        for (const c of record.chunks) yield c;
      },
    };
  }

  /** Test hook: flip one byte of the newest snapshot, as a bad disk would. */
  corruptLatest(): void {
    let best: SnapshotRecord | undefined;
    for (const r of this.records) if (best === undefined || newer(r, best)) best = r;
    const chunk = best?.chunks.find((c) => c.length > 0);
    if (chunk !== undefined) chunk[0] = chunk[0]! ^ 0xff;
  }

  /** Metadata of every stored snapshot, newest first. */
  list(): SnapshotMeta[] {
    return this.records
      .slice()
      .sort((a, b) => (newer(a, b) ? -1 : 1))
      .map((r) => r.meta);
  }
}
