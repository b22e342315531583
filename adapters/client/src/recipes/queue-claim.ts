/**
 * Taking the first item under a queue directory: read the first key, delete it by a txn that
 * holds only while its mod revision is the one read, so of two consumers racing for one item
 * exactly one gets it; with nothing to take, wait for the next put under the directory.
 */
import type { Client } from '../client.js';
import type { KeyValue } from '../kv/kv-types.js';
import { Compare, Op } from '../kv/txn.js';
import { awaitEvent } from './wait-events.js';

/** Removes `item` if nobody changed or took it since it was read; true if this call removed it. */
export async function claimItem(client: Client, item: KeyValue, signal: AbortSignal): Promise<boolean> {
  const result = await client
    .txn()
    .if(Compare.modRevision(item.key, '=', item.modRevision))
    .then(Op.delete(item.key))
    .commit({ signal });
  return result.succeeded;
}

/** The first item under `dir` in key order, removed; waits for one when there is none. */
export async function takeFirst(client: Client, dir: Buffer, signal: AbortSignal): Promise<KeyValue> {
  for (;;) {
    const first = await client.range(dir, { prefix: true, sort: { target: 'key', order: 'ascend' }, limit: 1, signal });
    const item = first.kvs[0];
    if (item !== undefined) {
      if (await claimItem(client, item, signal)) return item;
      continue; // another consumer took it: read the new first item
    }
    await awaitEvent(client, dir, { prefix: true, startRevision: first.header.revision + 1n }, signal, (e) => e.type === 'put');
  }
}

/** The first item under `dir` removed, or undefined when the queue is empty now. */
export async function pollFirst(client: Client, dir: Buffer, signal: AbortSignal): Promise<KeyValue | undefined> {
  for (;;) {
    const first = await client.range(dir, { prefix: true, sort: { target: 'key', order: 'ascend' }, limit: 1, signal });
    const item = first.kvs[0];
    if (item === undefined) return undefined;
    if (await claimItem(client, item, signal)) return item;
  }
}
