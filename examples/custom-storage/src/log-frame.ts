import { crc32 } from 'node:zlib';
import { CorruptStorageError, decodeEntryRecord, encodeEntryRecord, openRecord, sealRecord, type Entry } from '@cairn/core';

/**
 * The log file's format: a sequence of frames, each
 *
 *   u32 sealed length | u32 CRC-32 of those 4 bytes | sealed body (u32 CRC-32 | body)
 *
 * and a body is one operation: an append (u8 1 | f64 first index | per entry: u32 length | entry
 * record), a truncate (u8 2 | f64 index | f64 0) or a compact (u8 3 | f64 index | f64 term).
 * The length has its own checksum so a flipped length is refused instead of being read as a torn
 * tail that would cut off every frame after it.
 */
export type LogFrame =
  /** Entries from `from` on, replacing whatever was there. */
  | { readonly kind: 'append'; readonly from: number; readonly entries: Entry[] }
  /** Drop entries >= index. */
  | { readonly kind: 'truncate'; readonly index: number }
  /** Drop entries <= index, remembering its term. */
  | { readonly kind: 'compact'; readonly index: number; readonly term: number };

const APPEND = 1;
const TRUNCATE = 2;
const COMPACT = 3;

const HEADER_BYTES = 8;

/** `body` as a frame, ready to be written at the end of the file. */
function frame(body: Uint8Array): Uint8Array {
  const sealed = sealRecord(body);
  const out = new Uint8Array(HEADER_BYTES + sealed.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, sealed.byteLength);
  view.setUint32(4, crc32(out.subarray(0, 4)));
  out.set(sealed, HEADER_BYTES);
  return out;
}

export function appendFrame(entries: readonly Entry[]): Uint8Array {
  const records = entries.map(encodeEntryRecord);
  const body = new Uint8Array(1 + 8 + records.reduce((n, r) => n + 4 + r.byteLength, 0));
  const view = new DataView(body.buffer);
  view.setUint8(0, APPEND);
  view.setFloat64(1, entries[0]!.index);
  let at = 9;
  for (const r of records) {
    view.setUint32(at, r.byteLength);
    body.set(r, at + 4);
    at += 4 + r.byteLength;
  }
  return frame(body);
}

function markerFrame(kind: number, index: number, term: number): Uint8Array {
  const body = new Uint8Array(17);
  const view = new DataView(body.buffer);
  view.setUint8(0, kind);
  view.setFloat64(1, index);
  view.setFloat64(9, term);
  return frame(body);
}

export const truncateFrame = (index: number): Uint8Array => markerFrame(TRUNCATE, index, 0);
export const compactFrame = (index: number, term: number): Uint8Array => markerFrame(COMPACT, index, term);

/** Bytes an append frame of `entries` takes in the file. */
export function appendFrameBytes(entries: readonly Entry[]): number {
  // header, body checksum, kind, first index; per entry its length and its record (21 bytes + data).
  return entries.reduce((n, e) => n + 4 + 21 + e.data.byteLength, HEADER_BYTES + 4 + 1 + 8);
}

/** What a scan of the file found at byte `at`. */
export type ScannedFrame =
  | { readonly kind: 'frame'; readonly at: number; readonly frame: LogFrame; readonly bytes: number }
  /** The file ends inside this frame: a write that was cut short, never acknowledged. */
  | { readonly kind: 'torn'; readonly at: number }
  /** A complete frame that fails its checksum or makes no sense: the file is damaged. */
  | { readonly kind: 'damaged'; readonly at: number; readonly error: CorruptStorageError };

function decodeBody(body: Uint8Array, path: string, at: number): LogFrame {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const kind = view.getUint8(0);
  const index = view.getFloat64(1);
  if (kind === APPEND) {
    const entries: Entry[] = [];
    for (let p = 9; p < body.byteLength;) {
      const length = view.getUint32(p);
      entries.push(decodeEntryRecord(body.subarray(p + 4, p + 4 + length), path, index + entries.length));
      p += 4 + length;
    }
    return { kind: 'append', from: index, entries };
  }
  if (kind === TRUNCATE) return { kind: 'truncate', index };
  if (kind === COMPACT) return { kind: 'compact', index, term: view.getFloat64(9) };
  throw new CorruptStorageError(path, `frame at byte ${at} of unknown kind ${kind}`);
}

/** The frames of the file's `bytes` in order; stops after the first torn or damaged one. */
export function* scanFrames(bytes: Uint8Array, path: string): Generator<ScannedFrame> {
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < HEADER_BYTES) return yield { kind: 'torn', at };
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES);
    const length = view.getUint32(0);
    if (crc32(bytes.subarray(at, at + 4)) !== view.getUint32(4)) {
      return yield { kind: 'damaged', at, error: new CorruptStorageError(path, `frame header at byte ${at}: checksum mismatch`) };
    }
    if (at + HEADER_BYTES + length > bytes.byteLength) return yield { kind: 'torn', at };
    let decoded: LogFrame;
    try {
      decoded = decodeBody(openRecord(bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length), path, `frame at byte ${at}`), path, at);
    } catch (err) {
      // A body that passed its checksum yet does not parse is damage too (or a writer's bug).
      const error = err instanceof CorruptStorageError ? err : new CorruptStorageError(path, `frame at byte ${at}: ${(err as Error).message}`);
      return yield { kind: 'damaged', at, error };
    }
    yield { kind: 'frame', at, frame: decoded, bytes: HEADER_BYTES + length };
    at += HEADER_BYTES + length;
  }
}
