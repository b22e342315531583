import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, renameSync, write, writeSync, fdatasync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

const SEGMENT = /^([0-9a-f]{16})\.wal$/;
/** A segment being created: renamed into place once its head is on disk. */
export const SEGMENT_IN_PROGRESS = /^[0-9a-f]{16}\.wal\.tmp$/;

/** `0000000000000001.wal`: sequence numbers in hex, so names sort in order. */
export function segmentName(sequence: number): string {
  return `${sequence.toString(16).padStart(16, '0')}.wal`;
}

/** The sequence a file name stands for, or undefined when it is not a segment's name. */
export function segmentSequence(name: string): number | undefined {
  const match = SEGMENT.exec(name);
  return match === null ? undefined : Number.parseInt(match[1]!, 16);
}

/** fsync of a directory: makes the creation, rename or removal of its entries durable. */
export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p that fsyncs the parent of every directory it made, so none can vanish in a power loss. */
export function ensureDirectory(directory: string): void {
  const first = mkdirSync(directory, { recursive: true });
  if (first === undefined) return;
  let made = first;
  fsyncDirectory(dirname(made));
  for (const part of relative(first, directory)
    .split(sep)
    .filter((p) => p !== '')) {
    fsyncDirectory(made);
    made = join(made, part);
  }
  fsyncDirectory(made);
}

/** write(2) may write less than asked: loop until all of `bytes` is at `position`. */
export function writeFullySync(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength;) {
    const n = writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
    if (n === 0) throw new Error(`write at byte ${position + done} made no progress`);
    done += n;
  }
}

const writeAsync = promisify(write);
export const fdatasyncAsync = promisify(fdatasync);

/** The same through libuv's thread pool, so the event loop runs meanwhile. */
export async function writeFully(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength;) {
    const { bytesWritten: n } = await writeAsync(fd, bytes, done, bytes.byteLength - done, position + done);
    if (n === 0) throw new Error(`write at byte ${position + done} made no progress`);
    done += n;
  }
}

/**
 * A new segment `sequence` in `directory` holding `head`: written under a temporary name,
 * fdatasynced, renamed into place, directory fsynced. Returns its descriptor, open for writing.
 * A crash midway leaves at most the temporary file, which open removes.
 */
export function createSegment(directory: string, sequence: number, head: Uint8Array): number {
  const path = join(directory, segmentName(sequence));
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w+');
  try {
    writeFullySync(fd, head, 0);
    fdatasyncSync(fd);
    renameSync(temporary, path);
    fsyncDirectory(directory);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
