import { crc32 } from 'node:zlib';
import { CorruptStorageError, encodeEntryRecord, type Entry } from '@cairn/core';

/**
 * A segment file is a sequence of frames; every frame is
 *
 *   u32 body length | u32 CRC-32 of the body | u32 CRC-32 of the previous 8 bytes | body
 *
 * The header checks itself, so a damaged length is refused rather than read as a torn tail. A
 * body starts with its kind:
 *
 *   head      u8 1 | "cairnwal" | u8 version | f64 segment sequence | f64 compacted index | f64 its term
 *   append    u8 2 | f64 first index | u32 count | count × (u32 length | entry record)
 *   truncate  u8 3 | f64 index            (drop entries >= index)
 *   compact   u8 4 | f64 index | f64 term  (drop entries <= index)
 *
 * Entry records are the core's (own CRC, type, index, term, data), so one entry read back from the
 * middle of a frame is still checked. Numbers are float64, exact below 2^53 like JS numbers.
 */
export const FRAME_HEADER_BYTES = 12;
const MAGIC = new TextEncoder().encode('cairnwal');
const VERSION = 1;
const HEAD = 1;
const APPEND = 2;
const TRUNCATE = 3;
const COMPACT = 4;
/** An append body's bytes before its first entry: kind, first index, count. */
const APPEND_HEAD_BYTES = 1 + 8 + 4;

export type WalFrame =
  | { readonly kind: 'head'; readonly sequence: number; readonly offset: number; readonly offsetTerm: number }
  | { readonly kind: 'append'; readonly from: number; readonly entries: readonly AppendedEntry[] }
  | { readonly kind: 'truncate'; readonly index: number }
  | { readonly kind: 'compact'; readonly index: number; readonly term: number };

/** An entry as an append frame holds it: where its record lies in the file, not its data. */
export interface AppendedEntry {
  readonly index: number;
  readonly term: number;
  /** Byte position of the entry record in the segment file, and its length. */
  readonly position: number;
  readonly length: number;
}

function withHeader(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.byteLength);
  view.setUint32(4, crc32(body));
  view.setUint32(8, crc32(out.subarray(0, 8)));
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export function headFrame(sequence: number, offset: number, offsetTerm: number): Uint8Array {
  const body = new Uint8Array(1 + MAGIC.byteLength + 1 + 24);
  const view = new DataView(body.buffer);
  body[0] = HEAD;
  body.set(MAGIC, 1);
  body[1 + MAGIC.byteLength] = VERSION;
  const at = 2 + MAGIC.byteLength;
  view.setFloat64(at, sequence);
  view.setFloat64(at + 8, offset);
  view.setFloat64(at + 16, offsetTerm);
  return withHeader(body);
}

/** An append frame, and for each entry the offset of its record from the start of the frame. */
export function appendFrame(entries: readonly Entry[]): { bytes: Uint8Array; recordOffsets: number[]; recordLengths: number[] } {
  const records = entries.map(encodeEntryRecord);
  let size = APPEND_HEAD_BYTES;
  for (const r of records) size += 4 + r.byteLength;
  const body = new Uint8Array(size);
  const view = new DataView(body.buffer);
  body[0] = APPEND;
  view.setFloat64(1, entries[0]!.index);
  view.setUint32(9, records.length);
  const recordOffsets: number[] = [];
  const recordLengths: number[] = [];
  let at = APPEND_HEAD_BYTES;
  for (const r of records) {
    view.setUint32(at, r.byteLength);
    body.set(r, at + 4);
    recordOffsets.push(FRAME_HEADER_BYTES + at + 4);
    recordLengths.push(r.byteLength);
    at += 4 + r.byteLength;
  }
  return { bytes: withHeader(body), recordOffsets, recordLengths };
}

export function truncateFrame(index: number): Uint8Array {
  const body = new Uint8Array(9);
  body[0] = TRUNCATE;
  new DataView(body.buffer).setFloat64(1, index);
  return withHeader(body);
}

export function compactFrame(index: number, term: number): Uint8Array {
  const body = new Uint8Array(17);
  const view = new DataView(body.buffer);
  body[0] = COMPACT;
  view.setFloat64(1, index);
  view.setFloat64(9, term);
  return withHeader(body);
}

/** What reading the frame at a position found. */
export type FrameRead =
  | { readonly status: 'frame'; readonly frame: WalFrame; readonly end: number }
  /** The file ends inside this frame: a write that never completed. */
  | { readonly status: 'torn' };

const isIndex = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * The frame at `position` of `bytes` (a whole segment file named `file`). Damage that a torn write
 * cannot explain — a header or body failing its CRC, a body that does not parse — throws a
 * CorruptStorageError naming the file and the byte.
 */
export function readFrame(bytes: Uint8Array, position: number, file: string): FrameRead {
  if (bytes.byteLength - position < FRAME_HEADER_BYTES) return { status: 'torn' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(position);
  if (crc32(bytes.subarray(position, position + 8)) !== view.getUint32(position + 8)) {
    throw new CorruptStorageError(file, `frame header at byte ${position} fails its checksum`);
  }
  const start = position + FRAME_HEADER_BYTES;
  const end = start + length;
  if (end > bytes.byteLength) return { status: 'torn' };
  const body = bytes.subarray(start, end);
  if (crc32(body) !== view.getUint32(position + 4)) throw new CorruptStorageError(file, `frame at byte ${position} fails its checksum`);
  const bad = (what: string): never => {
    throw new CorruptStorageError(file, `frame at byte ${position}: ${what}`);
  };
  const at = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const number = (offset: number): number => {
    if (offset + 8 > body.byteLength) bad(`${body.byteLength}-byte body is too short`);
    const n = at.getFloat64(offset);
    if (!isIndex(n)) bad(`holds ${n} where an index or term belongs`);
    return n;
  };
  switch (body[0]) {
    case HEAD: {
      if (body.byteLength !== 2 + MAGIC.byteLength + 24 || !MAGIC.every((b, i) => body[1 + i] === b)) bad('not a Cairn WAL segment head');
      if (body[1 + MAGIC.byteLength] !== VERSION) bad(`segment format version ${body[1 + MAGIC.byteLength]}; this build reads version ${VERSION}`);
      const base = 2 + MAGIC.byteLength;
      return { status: 'frame', end, frame: { kind: 'head', sequence: number(base), offset: number(base + 8), offsetTerm: number(base + 16) } };
    }
    case APPEND: {
      const from = number(1);
      if (body.byteLength < APPEND_HEAD_BYTES) bad('append body is too short');
      const count = at.getUint32(9);
      if (count === 0 || from === 0) bad(`append of ${count} entries at ${from}`);
      const entries: AppendedEntry[] = [];
      let cursor = APPEND_HEAD_BYTES;
      for (let i = 0; i < count; i++) {
        if (cursor + 4 > body.byteLength) bad(`append body ends before entry ${i} of ${count}`);
        const recordLength = at.getUint32(cursor);
        const recordStart = cursor + 4;
        if (recordStart + recordLength > body.byteLength || recordLength < 21) bad(`entry ${i} of ${count} has a record of ${recordLength} bytes`);
        // Term sits after crc (4), type (1), index (8) in the core's entry record.
        const index = at.getFloat64(recordStart + 5);
        const term = at.getFloat64(recordStart + 13);
        if (index !== from + i || !isIndex(term)) bad(`entry ${i} of an append at ${from} holds index ${index}, term ${term}`);
        entries.push({ index, term, position: start + recordStart, length: recordLength });
        cursor = recordStart + recordLength;
      }
      if (cursor !== body.byteLength) bad('bytes after the last entry of an append');
      return { status: 'frame', end, frame: { kind: 'append', from, entries } };
    }
    case TRUNCATE:
      if (body.byteLength !== 9) bad('truncate body of the wrong size');
      return { status: 'frame', end, frame: { kind: 'truncate', index: number(1) } };
    case COMPACT:
      if (body.byteLength !== 17) bad('compact body of the wrong size');
      return { status: 'frame', end, frame: { kind: 'compact', index: number(1), term: number(9) } };
    default:
      return bad(`unknown frame kind ${body[0]}`);
  }
}
