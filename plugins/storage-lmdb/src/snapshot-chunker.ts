import { crc32 } from 'node:zlib';

const CRC_BYTES = 4;

/**
 * Cuts a stream of pieces of any size (an MVCC snapshot yields one small piece per pair) into
 * sealed chunk records of a fixed size: u32 CRC-32 of the body, then the body — the layout of the
 * core's sealRecord, built in place so the data is copied once, from the piece into the chunk.
 * Also keeps the CRC-32 and size of all the data.
 */
export class SnapshotChunker {
  private record: Uint8Array | undefined;
  private filled = 0;
  /** CRC-32 of every byte pushed so far that is in a finished chunk. */
  private crc = 0;
  private bytes = 0;

  constructor(private readonly chunkBytes: number) {}

  /** Size of all the data pushed. */
  get size(): number {
    return this.bytes;
  }

  /** CRC-32 of all the data; final once `finish()` has been called. */
  get checksum(): number {
    return this.crc;
  }

  /** Records completed by `piece`, in order. */
  push(piece: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    this.bytes += piece.byteLength;
    let at = 0;
    while (at < piece.byteLength) {
      this.record ??= new Uint8Array(CRC_BYTES + this.chunkBytes);
      const take = Math.min(this.chunkBytes - this.filled, piece.byteLength - at);
      this.record.set(piece.subarray(at, at + take), CRC_BYTES + this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.chunkBytes) done.push(this.seal(this.record));
    }
    return done;
  }

  /** The last, partly filled record, if any. */
  finish(): Uint8Array | undefined {
    if (this.record === undefined || this.filled === 0) return undefined;
    return this.seal(this.record.slice(0, CRC_BYTES + this.filled));
  }

  private seal(record: Uint8Array): Uint8Array {
    const body = record.subarray(CRC_BYTES);
    const crc = crc32(body);
    new DataView(record.buffer, record.byteOffset, CRC_BYTES).setUint32(0, crc);
    this.crc = crc32(body, this.crc);
    this.record = undefined;
    this.filled = 0;
    return record;
  }
}
