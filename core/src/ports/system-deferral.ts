import { injectable } from 'inversify';
import type { Deferral } from './deferral.js';

/** Node's setImmediate: runs after the I/O callbacks of the current loop turn. */
@injectable()
export class ImmediateDeferral implements Deferral {
  defer(run: () => void): void {
    setImmediate(run);
  }
}
