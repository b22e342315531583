import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the regular files under `directory`, recursively. */
export async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
