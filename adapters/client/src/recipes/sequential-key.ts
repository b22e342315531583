/**
 * Sequential keys as etcd's contrib/recipes newSequentialKV makes them: `<dir><16-digit number>`,
 * one more than the last key under `dir`, created together with a put of the guard key
 * `__<dir without its slash>` in a txn that fails if the guard changed since the read. The guard
 * makes the numbers grow with time: without it, two writers that read the same last key could
 * create a key that sorts before one created earlier.
 */
import type { Bytes } from '../bytes.js';
import type { Client } from '../client.js';
import type { ResponseHeader } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import { child, nameUnder } from './recipe-keys.js';

const DIGITS = 16;

export interface SequentialKey {
  readonly key: Buffer;
  readonly header: ResponseHeader;
}

/** The guard key of a directory: `__` followed by the directory without its trailing slash. */
export function sequenceGuard(dir: Buffer): Buffer {
  return Buffer.concat([Buffer.from('__'), dir.subarray(0, dir.length - 1)]);
}

export async function putSequentialKey(client: Client, dir: Buffer, value: Bytes, signal: AbortSignal): Promise<SequentialKey> {
  const guard = sequenceGuard(dir);
  for (;;) {
    const last = await client.range(dir, { prefix: true, sort: { target: 'key', order: 'descend' }, limit: 1, keysOnly: true, signal });
    const lastKey = last.kvs[0];
    let next = 0n;
    if (lastKey !== undefined) {
      const name = nameUnder(dir, lastKey.key) ?? '';
      if (!/^\d+$/.test(name)) throw new Error(`recipe: ${lastKey.key.toString()} is not a sequential key`);
      next = BigInt(name) + 1n;
    }
    const key = child(dir, next.toString().padStart(DIGITS, '0'));
    const result = await client
      .txn()
      .if(Compare.modRevision(guard, '<', last.header.revision + 1n))
      .then(Op.put(guard, ''), Op.put(key, value))
      .commit({ signal });
    if (result.succeeded) return { key, header: result.header };
  }
}
