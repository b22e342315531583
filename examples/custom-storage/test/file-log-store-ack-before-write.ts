// A planted bug, for the kit's checks to catch: operations resolve at once, before their frame is
// written (the SIGKILL check sees acknowledged entries missing).
import { FileLogStore } from '../src/index.js';

class AckBeforeWriteLogStore extends FileLogStore {
  protected override acknowledge(): Promise<void> {
    return Promise.resolve();
  }
}

export const createLogStore = (directory: string): FileLogStore => new AckBeforeWriteLogStore(directory);
