import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

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
