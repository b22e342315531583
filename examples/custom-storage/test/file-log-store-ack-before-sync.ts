// FileLogStore with a planted bug: append resolves after write(2), before fdatasync.
import { FileLogStore } from './file-log-store.js';

export const createLogStore = (directory: string): FileLogStore => new FileLogStore(directory, 'ack-before-sync');
