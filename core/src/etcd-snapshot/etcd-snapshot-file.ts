/**
 * The byte stream etcd's Maintenance.Snapshot returns: etcd's backend database, a bbolt file,
 * laid out as etcd 3.4 lays it out, so `etcdctl snapshot status` and `snapshot restore` read it.
 *
 *   bucket "key":  revision key -> protobuf mvccpb.KeyValue, one entry per stored revision.
 *                  Revision key = main u64 BE | '_' | sub u64 BE (17 bytes), plus 't' for a
 *                  tombstone (etcd writes a deletion as KeyValue{key} under such a key).
 *   bucket "meta": consistent_index (u64 BE); after a compaction also scheduledCompactRev and
 *                  finishedCompactRev, each the 17-byte revision key of {main: rev, sub: 0}.
 *
 *   buckets "auth", "authRoles", "authUsers" (when the source has auth): auth/authEnabled (one
 *                  byte, 1 or 0) and auth/authRevision (u64 BE); each role and user by name ->
 *                  protobuf authpb.Role / authpb.User, as etcd's auth store keeps them.
 *
 * Leases, members and alarms are not part of the source, so their buckets are absent; etcd
 * creates missing buckets itself when it opens or restores the file.
 */
import { writeBoltFile, type BoltBucket } from './bolt-file-writer.js';

export interface SnapshotRecord {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
}

/** etcd's auth buckets: users and roles by name, as authpb protobuf bytes. */
export interface EtcdAuthBuckets {
  readonly enabled: boolean;
  readonly revision: number;
  readonly users: readonly (readonly [name: string, user: Uint8Array])[];
  readonly roles: readonly (readonly [name: string, role: Uint8Array])[];
}

export interface SnapshotRecordSource {
  /** Every stored revision in increasing (main, sub) order; may be called more than once. */
  records(): AsyncIterable<SnapshotRecord>;
  readonly consistentIndex: number;
  readonly compactRevision: number; // 0 when never compacted
  /** The auth store of the same moment; absent: no auth buckets. */
  readonly auth?: EtcdAuthBuckets;
}

export const AUTH_BUCKET = Buffer.from('auth');
export const AUTH_USERS_BUCKET = Buffer.from('authUsers');
export const AUTH_ROLES_BUCKET = Buffer.from('authRoles');
export const AUTH_ENABLED_KEY = Buffer.from('authEnabled');
export const AUTH_REVISION_KEY = Buffer.from('authRevision');

/** The three auth buckets, in the byte order bbolt needs ("auth" < "authRoles" < "authUsers"). */
function authBuckets(auth: EtcdAuthBuckets): BoltBucket[] {
  const byName = (entries: readonly (readonly [string, Uint8Array])[]) =>
    entries.map(([name, value]) => [Buffer.from(name, 'utf8'), value] as const).sort((a, b) => Buffer.compare(a[0], b[0]));
  const fixed = (pairs: readonly (readonly [Uint8Array, Uint8Array])[]) => ({
    async *entries() {
      yield* pairs;
    },
  });
  return [
    {
      name: AUTH_BUCKET,
      ...fixed([
        [AUTH_ENABLED_KEY, Uint8Array.of(auth.enabled ? 1 : 0)],
        [AUTH_REVISION_KEY, u64BigEndian(auth.revision)],
      ]),
    },
    { name: AUTH_ROLES_BUCKET, ...fixed(byName(auth.roles)) },
    { name: AUTH_USERS_BUCKET, ...fixed(byName(auth.users)) },
  ];
}

const KEY_BUCKET = Buffer.from('key');
const META_BUCKET = Buffer.from('meta');
const CONSISTENT_INDEX_KEY = Buffer.from('consistent_index');
const FINISHED_COMPACT_KEY = Buffer.from('finishedCompactRev');
const SCHEDULED_COMPACT_KEY = Buffer.from('scheduledCompactRev');
const REVISION_SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'
const REVISION_KEY_SIZE = 17;

/** The whole snapshot file as page-aligned chunks; reads `source.records()` twice. */
export function etcdSnapshotFile(source: SnapshotRecordSource): AsyncIterable<Uint8Array> {
  const keyBucket: BoltBucket = {
    name: KEY_BUCKET,
    async *entries() {
      for await (const record of source.records()) {
        yield [etcdRevisionKey(record.main, record.sub, record.tombstone), encodeEtcdKeyValue(record)] as const;
      }
    },
  };
  const metaBucket: BoltBucket = {
    name: META_BUCKET,
    async *entries() {
      // Listed in byte order, as the bucket requires.
      yield [CONSISTENT_INDEX_KEY, u64BigEndian(source.consistentIndex)] as const;
      if (source.compactRevision > 0) {
        // The source only knows a completed compaction, so scheduled and finished agree.
        const compacted = etcdRevisionKey(source.compactRevision, 0, false);
        yield [FINISHED_COMPACT_KEY, compacted] as const;
        yield [SCHEDULED_COMPACT_KEY, compacted] as const;
      }
    },
  };
  return writeBoltFile([...(source.auth === undefined ? [] : authBuckets(source.auth)), keyBucket, metaBucket]);
}

/** etcd's backend key for a revision (revToBytes, plus appendMarkTombstone for deletions). */
export function etcdRevisionKey(main: number, sub: number, tombstone: boolean): Uint8Array {
  const key = Buffer.alloc(REVISION_KEY_SIZE + (tombstone ? 1 : 0));
  key.writeBigUInt64BE(BigInt(main), 0);
  key[8] = REVISION_SEPARATOR;
  key.writeBigUInt64BE(BigInt(sub), 9);
  if (tombstone) key[REVISION_KEY_SIZE] = TOMBSTONE_MARK;
  return key;
}

/**
 * mvccpb.KeyValue in proto3 wire format, fields in number order with zero/empty fields left
 * out (as etcd's gogo-generated Marshal does): 1 key, 2 create_revision, 3 mod_revision,
 * 4 version, 5 value, 6 lease. A tombstone carries only the key, exactly like etcd's delete.
 */
export function encodeEtcdKeyValue(record: SnapshotRecord): Uint8Array {
  const parts: Uint8Array[] = [];
  addBytesField(parts, 1, record.key);
  if (!record.tombstone) {
    addVarintField(parts, 2, BigInt(record.createRevision));
    addVarintField(parts, 3, BigInt(record.main));
    addVarintField(parts, 4, BigInt(record.version));
    addBytesField(parts, 5, record.value);
    addVarintField(parts, 6, record.lease);
  }
  return Buffer.concat(parts);
}

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function addVarintField(parts: Uint8Array[], field: number, value: bigint): void {
  if (value === 0n) return;
  parts.push(varint(BigInt((field << 3) | WIRE_VARINT)), varint(value));
}

function addBytesField(parts: Uint8Array[], field: number, value: Uint8Array): void {
  if (value.length === 0) return;
  parts.push(varint(BigInt((field << 3) | WIRE_LENGTH_DELIMITED)), varint(BigInt(value.length)), value);
}

/** Base-128 varint; negative int64 values take their 64-bit two's complement (10 bytes). */
function varint(value: bigint): Uint8Array {
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}

function u64BigEndian(n: number): Uint8Array {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(n));
  return bytes;
}
