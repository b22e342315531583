/**
 * Keys of the two LevelDB databases. Every key starts with one prefix byte that says what it
 * holds, so each kind is one contiguous range; numbers are big-endian so they sort numerically.
 *
 * raft database:     F format | O log offset | H stable state | E<u64 index> entry | S<u64 index><u64 seq> snapshot
 * backend database:  F format | Z flush marker | K<key> a Backend key
 */

export const FORMAT_KEY = Uint8Array.of(0x46); // 'F'
export const LOG_OFFSET_KEY = Uint8Array.of(0x4f); // 'O'
export const STABLE_STATE_KEY = Uint8Array.of(0x48); // 'H'
export const ENTRY_PREFIX = 0x45; // 'E'
export const SNAPSHOT_PREFIX = 0x53; // 'S'
export const FLUSH_MARKER_KEY = Uint8Array.of(0x5a); // 'Z'
export const BACKEND_PREFIX = 0x4b; // 'K'

/** Values of FORMAT_KEY: a database of another kind (or another program's) is refused on open. */
export const RAFT_FORMAT = 'cairn-storage-leveldb/raft/1';
export const BACKEND_FORMAT = 'cairn-storage-leveldb/backend/1';

const TWO_32 = 2 ** 32;

function writeU64(out: Buffer, offset: number, value: number): void {
  out.writeUInt32BE(Math.floor(value / TWO_32), offset);
  out.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(key: Uint8Array, offset: number): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(offset) * TWO_32 + view.getUint32(offset + 4);
}

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = ENTRY_PREFIX;
  writeU64(key, 1, index);
  return key;
}

/** The index in an entry key, or undefined when the key is not one. */
export function entryIndexOf(key: Uint8Array): number | undefined {
  return key.byteLength === 9 && key[0] === ENTRY_PREFIX ? readU64(key, 1) : undefined;
}

/** First key after every entry key. */
export const ENTRY_END = Uint8Array.of(ENTRY_PREFIX + 1);

export function snapshotKey(index: number, seq: number): Buffer {
  const key = Buffer.allocUnsafe(17);
  key[0] = SNAPSHOT_PREFIX;
  writeU64(key, 1, index);
  writeU64(key, 9, seq);
  return key;
}

export function snapshotKeyParts(key: Uint8Array): { index: number; seq: number } | undefined {
  if (key.byteLength !== 17 || key[0] !== SNAPSHOT_PREFIX) return undefined;
  return { index: readU64(key, 1), seq: readU64(key, 9) };
}

export const SNAPSHOT_START = Uint8Array.of(SNAPSHOT_PREFIX);
export const SNAPSHOT_END = Uint8Array.of(SNAPSHOT_PREFIX + 1);

export function backendKey(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(key.byteLength + 1);
  out[0] = BACKEND_PREFIX;
  out.set(key, 1);
  return out;
}

export const BACKEND_START = Uint8Array.of(BACKEND_PREFIX);
export const BACKEND_END = Uint8Array.of(BACKEND_PREFIX + 1);
