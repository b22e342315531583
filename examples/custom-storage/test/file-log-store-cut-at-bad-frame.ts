// FileLogStore with a planted bug: a frame that fails its checksum is cut off as if it were a torn tail.
import { FileLogStore } from './file-log-store.js';

export const createLogStore = (directory: string): FileLogStore => new FileLogStore(directory, 'cut-at-bad-frame');
