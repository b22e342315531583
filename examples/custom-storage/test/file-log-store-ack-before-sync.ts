// A planted bug, for the kit's checks to catch: operations resolve once write(2) returned, before
// fdatasync. A SIGKILL keeps the page cache, so only the strace check sees it.
import { FileLogStore } from '../src/index.js';

class AckBeforeSyncLogStore extends FileLogStore {
  protected override acknowledge(written: Promise<void>): Promise<void> {
    return written;
  }
}

export const createLogStore = (directory: string): FileLogStore => new AckBeforeSyncLogStore(directory);
