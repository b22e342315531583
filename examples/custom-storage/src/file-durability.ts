import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** Creates an empty file at `path` unless one exists; true when it was created. */
export async function createFile(path: string): Promise<boolean> {
  try {
    await (await open(path, 'wx')).close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** fsync of the directory holding `path`: makes a file's creation, rename or removal durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(dirname(path), 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `directory` (and missing parents) and fsyncs the parent of each directory it created,
 * so the stores' files cannot vanish with their directory's entry after a power loss.
 */
export async function ensureDirectory(directory: string): Promise<void> {
  const first = await mkdir(directory, { recursive: true });
  if (first === undefined) return;
  // mkdir names the topmost directory it made; each one made from there down needs its parent synced.
  let made = first;
  await fsyncDirectory(made);
  for (const part of relative(first, directory)
    .split(sep)
    .filter((p) => p !== '')) {
    made = join(made, part);
    await fsyncDirectory(made);
  }
}

/** Removes `path` if it is there (a leftover of an interrupted write); true when it was. */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes all of `bytes` at `position` (write(2) may write less than asked); returns the count. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  for (let done = 0; done < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    if (bytesWritten === 0) throw new Error(`write at byte ${position + done} made no progress`);
    done += bytesWritten;
  }
  return bytes.byteLength;
}
