import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { inject, injectable } from 'inversify';
import { decodeStableStateRecord, encodeStableStateRecord, type StableState, type StableStore } from '@cairn/core';
import { ensureDirectory, fsyncDirectory, removeIfPresent, writeFully } from './file-durability.js';
import { FILE_STORAGE_DIRECTORY } from './tokens.js';

/**
 * Term, vote, commit and membership as one checksummed record in `stable`, replaced whole by
 * writing `stable.tmp`, fdatasync, rename over `stable`, fsync of the directory: after a crash the
 * file is the old state or the new one, never a mix. A damaged record is a CorruptStorageError
 * naming the file.
 */
@injectable()
export class FileStableStore implements StableStore {
  readonly path: string;
  private state: StableState | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(@inject(FILE_STORAGE_DIRECTORY) private readonly directory: string) {
    this.path = join(directory, 'stable');
  }

  async open(): Promise<void> {
    await ensureDirectory(this.directory);
    // A save that never reached its rename; `stable` still holds the state before it.
    await removeIfPresent(`${this.path}.tmp`);
    let bytes: Buffer | undefined;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.state = bytes === undefined ? undefined : decodeStableStateRecord(bytes, this.path);
  }

  async close(): Promise<void> {
    await this.queue;
  }

  async load(): Promise<StableState | undefined> {
    return this.state === undefined ? undefined : structuredClone(this.state);
  }

  save(state: StableState): Promise<void> {
    const record = encodeStableStateRecord(state);
    const copy = structuredClone(state);
    const done = this.queue.then(async () => {
      const temporary = `${this.path}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await writeFully(handle, record, 0);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
      await fsyncDirectory(this.path);
      this.state = copy;
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}
