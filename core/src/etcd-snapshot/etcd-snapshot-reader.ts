/**
 * Reads etcd's MVCC state back out of an etcd backend file (a bbolt file, as `etcdctl snapshot
 * save` stores it): the inverse of etcdSnapshotFile, and equally able to read what etcd 3.4
 * itself writes, with its auth buckets (members, leases and alarms are not read).
 *
 *   bucket "key":  revision key (main u64 BE | '_' | sub u64 BE, plus 't' for a tombstone)
 *                  -> protobuf mvccpb.KeyValue (1 key, 2 create_revision, 3 mod_revision,
 *                  4 version, 5 value, 6 lease)
 *   bucket "meta": consistent_index u64 BE; finishedCompactRev and scheduledCompactRev as
 *                  revision keys
 */
import { BoltFileReader, CorruptBoltFileError, type BoltBucketReader } from './bolt-file-reader.js';
import {
  AUTH_BUCKET,
  AUTH_ENABLED_KEY,
  AUTH_REVISION_KEY,
  AUTH_ROLES_BUCKET,
  AUTH_USERS_BUCKET,
  type EtcdAuthBuckets,
  type SnapshotRecord,
  type SnapshotRecordSource,
} from './etcd-snapshot-file.js';

const KEY_BUCKET = Buffer.from('key');
const META_BUCKET = Buffer.from('meta');
const CONSISTENT_INDEX_KEY = Buffer.from('consistent_index');
const FINISHED_COMPACT_KEY = Buffer.from('finishedCompactRev');
const SCHEDULED_COMPACT_KEY = Buffer.from('scheduledCompactRev');
const REVISION_KEY_SIZE = 17;
const REVISION_SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'
/** Cairn keeps a sub revision in 32 bits; no transaction comes near that many operations. */
const MAX_SUB_REVISION = 0xffff_ffff;

export interface EtcdSnapshot extends SnapshotRecordSource {
  readonly path: string;
  /** The compaction etcd had recorded as scheduled; above compactRevision when one was under way. */
  readonly scheduledCompactRevision: number;
  close(): Promise<void>;
}

/**
 * Opens the etcd backend at `path` (its first `length` bytes when a trailer follows). Every
 * record is checked as `records()` streams it; damage is a CorruptBoltFileError naming the file.
 */
export async function openEtcdSnapshot(path: string, options: { length?: number } = {}): Promise<EtcdSnapshot> {
  const db = await BoltFileReader.open(path, options);
  try {
    const keys = await db.root.bucket(KEY_BUCKET);
    if (keys === undefined) throw new CorruptBoltFileError(path, 'it has no "key" bucket, so it is not an etcd backend');
    const meta = await db.root.bucket(META_BUCKET);
    const metaValue = async (name: Buffer): Promise<Buffer | undefined> => {
      const entry = await meta?.get(name);
      if (entry?.isBucket === true) throw new CorruptBoltFileError(path, `meta/${name.toString()} is a bucket, not a value`);
      return entry?.value;
    };
    const consistentIndex = await metaValue(CONSISTENT_INDEX_KEY);
    if (consistentIndex !== undefined && consistentIndex.length !== 8)
      throw new CorruptBoltFileError(path, `meta/consistent_index is ${consistentIndex.length} bytes, not 8`);
    const compactRevisionOf = async (name: Buffer): Promise<number> => {
      const value = await metaValue(name);
      return value === undefined ? 0 : decodeRevisionKey(path, value, `meta/${name.toString()}`).main;
    };
    const compactRevision = await compactRevisionOf(FINISHED_COMPACT_KEY);
    const scheduledCompactRevision = await compactRevisionOf(SCHEDULED_COMPACT_KEY);
    const auth = await readAuthBuckets(path, db);
    return {
      path,
      ...(auth === undefined ? {} : { auth }),
      consistentIndex: consistentIndex === undefined ? 0 : safeNumber(path, consistentIndex.readBigUInt64BE(0), 'meta/consistent_index'),
      compactRevision,
      scheduledCompactRevision,
      records: () => readRecords(path, keys),
      close: () => db.close(),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** etcd's auth buckets, if the file has an "auth" bucket (users and roles are small: read whole). */
async function readAuthBuckets(path: string, db: BoltFileReader): Promise<EtcdAuthBuckets | undefined> {
  const auth = await db.root.bucket(AUTH_BUCKET);
  if (auth === undefined) return undefined;
  const value = async (key: Buffer): Promise<Buffer | undefined> => {
    const entry = await auth.get(key);
    if (entry?.isBucket === true) throw new CorruptBoltFileError(path, `auth/${key.toString()} is a bucket, not a value`);
    return entry?.value;
  };
  const enabled = await value(AUTH_ENABLED_KEY);
  const revision = await value(AUTH_REVISION_KEY);
  if (revision !== undefined && revision.length !== 8) throw new CorruptBoltFileError(path, `auth/authRevision is ${revision.length} bytes, not 8`);
  const named = async (name: Buffer): Promise<(readonly [string, Uint8Array])[]> => {
    const bucket = await db.root.bucket(name);
    const out: (readonly [string, Uint8Array])[] = [];
    if (bucket === undefined) return out;
    for await (const entry of bucket.entries()) {
      if (entry.isBucket) throw new CorruptBoltFileError(path, `${name.toString()}/${entry.key.toString()} is a bucket, not a record`);
      out.push([entry.key.toString('utf8'), Uint8Array.from(entry.value)]);
    }
    return out;
  };
  return {
    enabled: enabled !== undefined && enabled.length === 1 && enabled[0] === 1,
    revision: revision === undefined ? 0 : safeNumber(path, revision.readBigUInt64BE(0), 'auth/authRevision'),
    users: await named(AUTH_USERS_BUCKET),
    roles: await named(AUTH_ROLES_BUCKET),
  };
}

async function* readRecords(path: string, keys: BoltBucketReader): AsyncIterable<SnapshotRecord> {
  for await (const entry of keys.entries()) {
    const at = decodeRevisionKey(path, entry.key, 'a key of the "key" bucket');
    const where = `the record at revision ${at.main}.${at.sub}`;
    if (entry.isBucket) throw new CorruptBoltFileError(path, `${where} is a bucket, not a KeyValue`);
    const kv = decodeKeyValue(path, entry.value, where);
    if (kv.key.length === 0) throw new CorruptBoltFileError(path, `${where} has an empty key`);
    if (at.tombstone) {
      yield { ...at, key: kv.key, value: new Uint8Array(0), createRevision: 0, version: 0, lease: 0n };
      continue;
    }
    if (kv.modRevision !== at.main) throw new CorruptBoltFileError(path, `${where} says its mod_revision is ${kv.modRevision}`);
    if (kv.createRevision < 1 || kv.createRevision > at.main || kv.version < 1) {
      throw new CorruptBoltFileError(path, `${where} has create_revision ${kv.createRevision} and version ${kv.version}`);
    }
    yield { ...at, key: kv.key, value: kv.value, createRevision: kv.createRevision, version: kv.version, lease: kv.lease };
  }
}

function decodeRevisionKey(path: string, bytes: Buffer, what: string): { main: number; sub: number; tombstone: boolean } {
  const tombstone = bytes.length === REVISION_KEY_SIZE + 1 && bytes[REVISION_KEY_SIZE] === TOMBSTONE_MARK;
  if ((bytes.length !== REVISION_KEY_SIZE && !tombstone) || bytes[8] !== REVISION_SEPARATOR) {
    throw new CorruptBoltFileError(path, `${what} is not a revision (0x${bytes.subarray(0, 24).toString('hex')})`);
  }
  const main = safeNumber(path, bytes.readBigUInt64BE(0), what);
  const sub = bytes.readBigUInt64BE(9);
  if (sub > BigInt(MAX_SUB_REVISION)) throw new CorruptBoltFileError(path, `${what} has sub revision ${sub}, beyond what Cairn stores`);
  return { main, sub: Number(sub), tombstone };
}

function safeNumber(path: string, value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CorruptBoltFileError(path, `${what} is ${value}, beyond 2^53`);
  return Number(value);
}

interface DecodedKeyValue {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** mvccpb.KeyValue from proto3 wire format; unknown fields are skipped as protobuf requires. */
function decodeKeyValue(path: string, message: Buffer, where: string): DecodedKeyValue {
  const fail = (detail: string): never => {
    throw new CorruptBoltFileError(path, `${where} is not a KeyValue: ${detail}`);
  };
  const kv: DecodedKeyValue = { key: new Uint8Array(0), value: new Uint8Array(0), createRevision: 0, modRevision: 0, version: 0, lease: 0n };
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = message[at++];
      if (byte === undefined) return fail('a varint runs past the end');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return fail('a varint is longer than 10 bytes');
  };
  const int64 = (what: string): number => {
    const value = BigInt.asIntN(64, varint());
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is ${value}`);
    return Number(value);
  };
  const skip = (bytes: number): void => {
    if (at + bytes > message.length) fail('a field runs past the end');
    at += bytes;
  };
  while (at < message.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) fail('field number 0');
    if (wire === WIRE_LENGTH_DELIMITED) {
      const size = Number(varint());
      const start = at;
      skip(size);
      const bytes = message.subarray(start, at);
      if (field === 1) kv.key = bytes;
      else if (field === 5) kv.value = bytes;
    } else if (wire === WIRE_VARINT) {
      if (field === 2) kv.createRevision = int64('create_revision');
      else if (field === 3) kv.modRevision = int64('mod_revision');
      else if (field === 4) kv.version = int64('version');
      else if (field === 6) kv.lease = BigInt.asIntN(64, varint());
      else varint();
    } else if (wire === WIRE_FIXED64) skip(8);
    else if (wire === WIRE_FIXED32) skip(4);
    else fail(`wire type ${wire} of field ${field}`);
    if ((field === 1 || field === 5) && wire !== WIRE_LENGTH_DELIMITED) fail(`field ${field} has wire type ${wire}`);
    if (((field >= 2 && field <= 4) || field === 6) && wire !== WIRE_VARINT) fail(`field ${field} has wire type ${wire}`);
  }
  return kv;
}
