import { readFile } from 'node:fs/promises';
import { CorruptStorageError } from '@cairn/core';
import { crc32c } from '@node-rs/crc32';
import { unmaskLevelDbCrc } from './crc32c.js';
import { uncompressSync } from 'snappy';

const FOOTER_BYTES = 48;
const BLOCK_TRAILER_BYTES = 5;
/** kTableMagicNumber 0xdb4775248b80fb57, little-endian. */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

class Cursor {
  constructor(
    private readonly bytes: Uint8Array,
    public at = 0,
    private readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error('varint too long');
  }

  handle(): BlockHandle {
    return { offset: this.varint(), size: this.varint() };
  }

  skip(bytes: number): Uint8Array {
    if (this.at + bytes > this.end) throw new Error('entry runs past its block');
    const out = this.bytes.subarray(this.at, this.at + bytes);
    this.at += bytes;
    return out;
  }
}

/**
 * Check a LevelDB table (`NNNNNN.ldb`): footer and magic, then the checksum of every block (data,
 * filter, metaindex, index), and throw CorruptStorageError naming the file on the first bad one.
 *
 * Why: classic-level reads without `verify_checksums`, so a damaged data block can come back as
 * wrong bytes, a damaged index block can hide a range of keys, and a damaged bloom filter can make
 * a present key read as missing.
 */
export async function checkLevelDbTableFile(path: string): Promise<void> {
  const file = await readFile(path);
  const fail = (detail: string): never => {
    throw new CorruptStorageError(path, `LevelDB table: ${detail}`);
  };
  if (file.length < FOOTER_BYTES) fail(`${file.length} bytes, shorter than a table footer`);
  const footer = file.subarray(file.length - FOOTER_BYTES);
  if (!footer.subarray(FOOTER_BYTES - 8).equals(TABLE_MAGIC)) fail('bad magic number');
  let metaIndex: BlockHandle;
  let index: BlockHandle;
  try {
    const cursor = new Cursor(footer, 0, FOOTER_BYTES - 8);
    metaIndex = cursor.handle();
    index = cursor.handle();
  } catch (err) {
    return fail(`footer: ${(err as Error).message}`);
  }
  const tablesEnd = file.length - FOOTER_BYTES;

  /** The block's contents, uncompressed, after checking its CRC. */
  const block = (handle: BlockHandle, what: string): Uint8Array => {
    if (handle.offset + handle.size + BLOCK_TRAILER_BYTES > tablesEnd) fail(`${what} block at ${handle.offset} runs past the end of the file`);
    const end = handle.offset + handle.size;
    const stored = unmaskLevelDbCrc(file.readUInt32LE(end + 1));
    if (crc32c(file.subarray(handle.offset, end + 1)) !== stored) fail(`${what} block at ${handle.offset}: checksum mismatch`);
    const contents = file.subarray(handle.offset, end);
    switch (file[end]) {
      case 0:
        return contents;
      case 1:
        try {
          // The CRC above already passed: only a deliberately made block reaches the decoder damaged.
          return uncompressSync(contents as Buffer, { asBuffer: true }) as Buffer;
        } catch (err) {
          return fail(`${what} block at ${handle.offset}: ${(err as Error).message}`);
        }
      default:
        return fail(`${what} block at ${handle.offset}: unknown compression type ${file[end]}`);
    }
  };

  /** The values of a block's entries (for index and metaindex blocks: handles of other blocks). */
  const blockValues = (contents: Uint8Array, what: string): Uint8Array[] => {
    try {
      if (contents.length < 4) throw new Error('too short for its restart count');
      const restarts = Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength).readUInt32LE(contents.length - 4);
      const entriesEnd = contents.length - 4 - 4 * restarts;
      if (entriesEnd < 0) throw new Error(`${restarts} restarts do not fit`);
      const cursor = new Cursor(contents, 0, entriesEnd);
      const values: Uint8Array[] = [];
      while (!cursor.done) {
        cursor.varint(); // bytes shared with the previous key
        const unshared = cursor.varint();
        const valueBytes = cursor.varint();
        cursor.skip(unshared);
        values.push(cursor.skip(valueBytes));
      }
      return values;
    } catch (err) {
      return fail(`${what} block: ${(err as Error).message}`);
    }
  };

  const handleIn = (value: Uint8Array, what: string): BlockHandle => {
    try {
      return new Cursor(value).handle();
    } catch (err) {
      return fail(`${what} entry: ${(err as Error).message}`);
    }
  };

  for (const value of blockValues(block(index, 'index'), 'index')) block(handleIn(value, 'index'), 'data');
  for (const value of blockValues(block(metaIndex, 'metaindex'), 'metaindex')) block(handleIn(value, 'metaindex'), 'meta');
}
