/** Reading a txn's per-operation results back with their types, for recipes that batch ranges in a txn. */
import type { KeyValue, RangeResult } from '../kv/kv-types.js';
import type { OpResult } from '../kv/txn.js';

/** The range result at `index` of a txn's responses; throws if that operation was not a range. */
export function rangeAt(responses: readonly OpResult[], index: number): RangeResult {
  const response = responses[index];
  if (response === undefined || response.type !== 'range') {
    throw new Error(`recipe: txn response ${index} is not a range`);
  }
  return response.result;
}

/**
 * The key-value of exactly `key` among a single-key read's results. A single-key read is sent
 * with `limit: 1` and checked here so that it stays exact even where a server reads it as the
 * range from `key` on.
 */
export function keyValueOf(kvs: readonly KeyValue[], key: Buffer): KeyValue | undefined {
  return kvs.find((kv) => kv.key.equals(key));
}

/** Options of a read of one key (see keyValueOf). */
export const ONE_KEY = { limit: 1 } as const;
