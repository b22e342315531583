/**
 * "Later in this turn of the event loop, after I/O callbacks": how the node lets a batch of
 * proposals gather, and how long loops yield. Injected so the simulator runs it on its own queue.
 */
export interface Deferral {
  defer(run: () => void): void;
}

export const DEFERRAL = Symbol.for('cairn.port.Deferral');
