import { readFile } from 'node:fs/promises';
import { CorruptStorageError } from '@cairn/core';
import { crc32c } from '@node-rs/crc32';
import { unmaskLevelDbCrc } from './crc32c.js';

const BLOCK_BYTES = 32768;
const HEADER_BYTES = 7;

enum RecordType {
  Zero = 0,
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
}

/**
 * Check every record of a LevelDB write-ahead log (`NNNNNN.log`) the way LevelDB's reader walks it,
 * and throw CorruptStorageError naming the file where LevelDB would report corruption.
 *
 * Why: classic-level opens LevelDB without `paranoid_checks`, and then recovery *drops* a record
 * whose checksum fails (with everything after it in the block), converts the rest into a table and
 * deletes the log — synced, acknowledged Raft entries would vanish without a word. A record torn
 * at the very end of the file is what a crash during an unsynced write leaves; LevelDB ignores it
 * and so does this check.
 */
export async function checkLevelDbLogFile(path: string): Promise<void> {
  const file = await readFile(path);
  const fail = (offset: number, detail: string): never => {
    throw new CorruptStorageError(path, `LevelDB log record at byte ${offset}: ${detail}`);
  };
  let inFragmentedRecord = false;
  for (let blockStart = 0; blockStart < file.length; blockStart += BLOCK_BYTES) {
    const blockEnd = Math.min(blockStart + BLOCK_BYTES, file.length);
    const atEof = blockEnd === file.length;
    let at = blockStart;
    while (blockEnd - at >= HEADER_BYTES) {
      const length = file.readUInt16LE(at + 4);
      const type = file[at + 6]!;
      if (at + HEADER_BYTES + length > blockEnd) {
        if (atEof) return; // torn tail: the write never completed
        fail(at, 'bad record length');
      }
      if (type === RecordType.Zero && length === 0) break; // preallocated space: LevelDB skips the block's rest
      const stored = unmaskLevelDbCrc(file.readUInt32LE(at));
      const actual = crc32c(file.subarray(at + 6, at + HEADER_BYTES + length));
      if (stored !== actual) fail(at, 'checksum mismatch');
      switch (type as RecordType) {
        case RecordType.Full:
          if (inFragmentedRecord) fail(at, 'partial record without end');
          break;
        case RecordType.First:
          if (inFragmentedRecord) fail(at, 'partial record without end');
          inFragmentedRecord = true;
          break;
        case RecordType.Middle:
        case RecordType.Last:
          if (!inFragmentedRecord) fail(at, 'missing start of fragmented record');
          if (type === RecordType.Last) inFragmentedRecord = false;
          break;
        default:
          fail(at, `unknown record type ${type}`);
      }
      at += HEADER_BYTES + length;
    }
  }
}
