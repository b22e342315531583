import { crc32 } from 'node:zlib';
import type { StableState } from './stable-state.js';
import { EntryType, type Entry, type SnapshotMeta } from './raft-types.js';

/**
 * Raft's persistent records as storage plugins keep them: each record starts with a CRC-32 of the
 * rest, so a flipped or torn record is refused instead of being read as wrong data.
 *
 *   entry:        u32 crc | u8 type | f64 index | f64 term | data
 *   stable state: u32 crc | UTF-8 JSON
 *   snapshot meta: u32 crc | UTF-8 JSON
 *
 * Indexes and terms are written as float64: exact for every integer below 2^53, which bounds them
 * anyway as JavaScript numbers.
 */

/** Data on disk that cannot be trusted: bad checksum, torn record, unknown format. Names the file. */
export class CorruptStorageError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: corrupt storage: ${detail}`);
    this.name = 'CorruptStorageError';
  }
}

const CRC_BYTES = 4;
const ENTRY_HEAD_BYTES = CRC_BYTES + 1 + 8 + 8;

/** `body` behind its checksum. */
export function sealRecord(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(CRC_BYTES + body.byteLength);
  new DataView(out.buffer).setUint32(0, crc32(body));
  out.set(body, CRC_BYTES);
  return out;
}

/** The body of a sealed record; throws CorruptStorageError naming `file` when the checksum does not match. */
export function openRecord(record: Uint8Array, file: string, what: string): Uint8Array {
  if (record.byteLength < CRC_BYTES) throw new CorruptStorageError(file, `${what}: ${record.byteLength} bytes, shorter than its checksum`);
  const body = record.subarray(CRC_BYTES);
  const stored = new DataView(record.buffer, record.byteOffset, CRC_BYTES).getUint32(0);
  if (crc32(body) !== stored) throw new CorruptStorageError(file, `${what}: checksum mismatch`);
  return body;
}

export function encodeEntryRecord(entry: Entry): Uint8Array {
  const out = new Uint8Array(ENTRY_HEAD_BYTES + entry.data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(CRC_BYTES, entry.type);
  view.setFloat64(CRC_BYTES + 1, entry.index);
  view.setFloat64(CRC_BYTES + 9, entry.term);
  out.set(entry.data, ENTRY_HEAD_BYTES);
  view.setUint32(0, crc32(out.subarray(CRC_BYTES)));
  return out;
}

/**
 * The entry in `record`, checked: checksum, known type, and (when given) the index the store
 * filed it under, so a record written in the wrong place is refused too. `data` is a copy.
 */
export function decodeEntryRecord(record: Uint8Array, file: string, expectedIndex?: number): Entry {
  if (record.byteLength < ENTRY_HEAD_BYTES) throw new CorruptStorageError(file, `log entry record of ${record.byteLength} bytes is torn`);
  openRecord(record, file, expectedIndex === undefined ? 'log entry' : `log entry ${expectedIndex}`);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const type = view.getUint8(CRC_BYTES);
  if (EntryType[type] === undefined) throw new CorruptStorageError(file, `log entry of unknown type ${type}`);
  const index = view.getFloat64(CRC_BYTES + 1);
  const term = view.getFloat64(CRC_BYTES + 9);
  if (expectedIndex !== undefined && index !== expectedIndex) throw new CorruptStorageError(file, `log entry filed at ${expectedIndex} holds index ${index}`);
  return { index, term, type: type as EntryType, data: record.slice(ENTRY_HEAD_BYTES) };
}

function sealJson(value: unknown): Uint8Array {
  return sealRecord(new TextEncoder().encode(JSON.stringify(value)));
}

function openJson(record: Uint8Array, file: string, what: string): unknown {
  const body = openRecord(record, file, what);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new CorruptStorageError(file, `${what}: ${(err as Error).message}`);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIdList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isConfState = (v: unknown): boolean => {
  const c = v as { voters?: unknown; learners?: unknown } | null;
  return typeof c === 'object' && c !== null && isIdList(c.voters) && isIdList(c.learners);
};

export function encodeStableStateRecord(state: StableState): Uint8Array {
  return sealJson(state);
}

export function decodeStableStateRecord(record: Uint8Array, file: string): StableState {
  const s = openJson(record, file, 'stable state') as {
    hardState?: { term?: unknown; vote?: unknown; commit?: unknown };
    confState?: unknown;
    clusterId?: unknown;
    memberId?: unknown;
  } | null;
  const h = s?.hardState;
  if (
    s === null ||
    typeof s !== 'object' ||
    h === undefined ||
    !isCount(h.term) ||
    typeof h.vote !== 'string' ||
    !isCount(h.commit) ||
    !isConfState(s.confState) ||
    typeof s.clusterId !== 'string' ||
    typeof s.memberId !== 'string'
  ) {
    throw new CorruptStorageError(file, 'stable state record has the wrong shape');
  }
  return s as StableState;
}

export function encodeSnapshotMetaRecord(meta: SnapshotMeta): Uint8Array {
  return sealJson(meta);
}

export function decodeSnapshotMetaRecord(record: Uint8Array, file: string): SnapshotMeta {
  const m = openJson(record, file, 'snapshot metadata') as { index?: unknown; term?: unknown; confState?: unknown } | null;
  if (m === null || typeof m !== 'object' || !isCount(m.index) || !isCount(m.term) || !isConfState(m.confState)) {
    throw new CorruptStorageError(file, 'snapshot metadata record has the wrong shape');
  }
  return m as SnapshotMeta;
}
