/**
 * Key arithmetic shared by the recipes: byte conversion, the trailing slash clientv3 adds to a
 * recipe's prefix, and the names a recipe gives its own keys.
 */
import { randomBytes } from 'node:crypto';
import { toBuffer, type Bytes } from '../bytes.js';

/** `prefix` with one `/` appended, as clientv3's NewMutex/NewElection do (`pfx + "/"`). */
export function slashed(prefix: Bytes): Buffer {
  return Buffer.concat([toBuffer(prefix), Buffer.from('/')]);
}

/** A lease ID as clientv3 formats it in a key (`%x`: lower-case hex, no padding). */
export function leaseHex(lease: bigint): string {
  return lease.toString(16);
}

/** `dir` followed by `name` (dir already ends with its separator). */
export function child(dir: Buffer, name: string): Buffer {
  return Buffer.concat([dir, Buffer.from(name, 'utf8')]);
}

/** A name no other caller picks: the session's lease (for humans reading keys) and 64 random bits. */
export function uniqueName(lease: bigint | undefined): string {
  const random = randomBytes(8).toString('hex');
  return lease === undefined ? random : `${leaseHex(lease)}_${random}`;
}

/** The part of `key` after `dir` (UTF-8), or undefined when `key` is not under it. */
export function nameUnder(dir: Buffer, key: Buffer): string | undefined {
  if (key.length < dir.length || !key.subarray(0, dir.length).equals(dir)) return undefined;
  return key.subarray(dir.length).toString('utf8');
}
