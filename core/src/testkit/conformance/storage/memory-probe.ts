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
  /**
   * The lowest level seen so far: buffers something else still held at the start (an earlier test's)
   * may be freed midway, and growth counted from the first level would hide that much of the store's.
   */
  private baseline: number;
  /** The largest growth seen by sample(), from the lowest level before it. */
  peak = 0;

  constructor() {
    collectGarbage();
    this.baseline = process.memoryUsage().arrayBuffers;
  }

  sample(): void {
    collectGarbage();
    const now = process.memoryUsage().arrayBuffers;
    this.baseline = Math.min(this.baseline, now);
    this.peak = Math.max(this.peak, now - this.baseline);
  }
}
