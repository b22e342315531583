import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** A full garbage collection, so that what remains allocated is what is still referenced. */
function collectGarbage(): void {
  if (collect === undefined) {
    // The flag only reaches contexts made after it is set: a fresh one hands out gc().
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/**
 * Tracks how many bytes of ArrayBuffers (Buffers, Uint8Arrays) this process holds above where it
 * started: a store that keeps a streamed snapshot whole shows the snapshot's size here.
 */
export class BufferMemoryProbe {
  private readonly baseline: number;
  /** The largest growth seen by sample(). */
  peak = 0;

  constructor() {
    collectGarbage();
    this.baseline = process.memoryUsage().arrayBuffers;
  }

  sample(): void {
    collectGarbage();
    this.peak = Math.max(this.peak, process.memoryUsage().arrayBuffers - this.baseline);
  }
}
