import { EntryType, type Entry, type LogStore } from '@cairn/core';

/** One operation of the rewrite workload. */
export type RewriteOperation =
  { readonly kind: 'append'; readonly entries: readonly Entry[] } | { readonly kind: 'compact'; readonly index: number; readonly term: number };

const ENTRIES_PER_APPEND = 30;
const ENTRY_BYTES = 1500;
/** Entries a compaction leaves: 4 of 64, so with logRewriteMinBytes 0 every compaction rewrites the file. */
const KEPT = 4;
const TERM = 3;

/** The marker in every entry of operation `n`, so a syscall trace shows which write carried it. */
export const rewriteTag = (n: number): string => `rewrite-op${n.toString().padStart(5, '0')}-`;

function tagged(tag: string, length: number): Uint8Array {
  return new TextEncoder().encode(tag.repeat(Math.ceil(length / tag.length)).slice(0, length));
}

/** The log a sequence of operations leaves. */
export class RewriteModel {
  offset = 0;
  entries: Entry[] = [];

  get lastIndex(): number {
    return this.offset + this.entries.length;
  }

  apply(op: RewriteOperation): void {
    if (op.kind === 'append') {
      this.entries.push(...op.entries);
    } else {
      this.entries = this.entries.slice(op.index - this.offset);
      this.offset = op.index;
    }
  }
}

/**
 * Operations 1..count: two appends of 30 entries of 1500 bytes, then a compaction that keeps 4
 * entries, over and over. Deterministic, so the child that runs it and the parent that checks what
 * it left agree on every operation.
 */
export function rewriteWorkload(count: number): RewriteOperation[] {
  const model = new RewriteModel();
  const ops: RewriteOperation[] = [];
  for (let n = 1; n <= count; n++) {
    let op: RewriteOperation;
    if (n % 3 === 0) {
      op = { kind: 'compact', index: model.lastIndex - KEPT, term: TERM };
    } else {
      const from = model.lastIndex + 1;
      op = {
        kind: 'append',
        entries: Array.from({ length: ENTRIES_PER_APPEND }, (_, i) => ({
          index: from + i,
          term: TERM,
          type: EntryType.Normal,
          data: tagged(`${rewriteTag(n)}${i};`, ENTRY_BYTES),
        })),
      };
    }
    model.apply(op);
    ops.push(op);
  }
  return ops;
}

/** The model after the first `n` operations. */
export function modelAfter(ops: readonly RewriteOperation[], n: number): RewriteModel {
  const model = new RewriteModel();
  for (const op of ops.slice(0, n)) model.apply(op);
  return model;
}

export function applyRewriteOperation(store: LogStore, op: RewriteOperation): Promise<void> {
  return op.kind === 'append' ? store.append(op.entries) : store.compactTo(op.index, op.term);
}
