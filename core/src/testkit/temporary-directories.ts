import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fresh directories under the OS temporary directory (real paths, as strace prints them), removed by `removeAll()`. */
export class TemporaryDirectories {
  private readonly made: string[] = [];

  constructor(private readonly prefix = 'cairn') {}

  async make(label = 'store'): Promise<string> {
    const directory = await realpath(await mkdtemp(join(tmpdir(), `${this.prefix}-${label}-`)));
    this.made.push(directory);
    return directory;
  }

  async removeAll(): Promise<void> {
    for (const directory of this.made.splice(0)) await rm(directory, { recursive: true, force: true });
  }
}

/** What `promise` rejected with; throws when it resolved instead. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
