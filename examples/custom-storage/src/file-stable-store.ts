import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StableState, StableStore } from '../../src/ports/stable-store.js';
import { decodeStableStateRecord, encodeStableStateRecord } from '../../src/raft/stored-records.js';
import { fsyncDirectory } from './file-durability.js';

/**
 * A test-only StableStore: the state as one checksummed record in `stable`, replaced by writing
 * `stable.tmp`, fdatasync, rename over `stable`, fsync of the directory.
 */
export class FileStableStore implements StableStore {
  readonly path: string;
  private state: StableState | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(directory: string) {
    this.path = join(directory, 'stable');
  }

  async open(): Promise<void> {
    await rm(`${this.path}.tmp`, { force: true });
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
        await handle.write(record);
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
