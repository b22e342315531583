// FileLogStore with a planted bug: append resolves before its data is written.
import { FileLogStore } from './file-log-store.js';

export const createLogStore = (directory: string): FileLogStore => new FileLogStore(directory, 'ack-before-write');
