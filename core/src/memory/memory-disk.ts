import { injectable, unmanaged } from 'inversify';
import type { Clock } from '../ports/clock.js';

export interface MemoryDiskOptions {
  /** Times the writes: without a clock every write is durable on the next microtask. */
  readonly clock?: Clock;
  /** Virtual milliseconds one sync takes (drawn per write; default 0). */
  readonly syncDelay?: () => number;
}

/** The disk the memory plugin's stores share, so a simulated crash hits them all at once. */
export const MEMORY_DISK = Symbol.for('cairn.memory.MemoryDisk');

/**
 * The durability of a simulated member's disk. Writes complete in the order they were issued, each
 * after its sync delay; a write's effect on the durable state happens exactly when its promise
 * resolves. After `crash()` nothing pending ever completes and later writes never do either: the
 * stores on this disk are dead, and `recover()` on each gives a fresh store holding only what was
 * durable.
 */
@injectable()
export class MemoryDisk {
  private crashed = false;
  private failing = false;
  private lastCompletion = 0;
  private pending = 0;
  /** Completed syncs, for tests that count fsyncs. */
  syncs = 0;

  // Options model a slow or crashing disk: only tests pass them.
  constructor(@unmanaged() private readonly options: MemoryDiskOptions = {}) {}

  get isCrashed(): boolean {
    return this.crashed;
  }

  /** Writes issued and not yet durable. */
  get inFlight(): number {
    return this.pending;
  }

  /** True once `failSyncs()` was called: every write since has failed. */
  get syncsFailing(): boolean {
    return this.failing;
  }

  /**
   * The device fails: from now on each write's sync fails with EIO after its delay and nothing it
   * carried becomes durable (what a store shows in memory is no longer backed by the disk: the
   * page cache after a failed fsync). Writes already issued fail too.
   */
  failSyncs(): void {
    this.failing = true;
  }

  /** Run `makeDurable` once the write is on stable storage, then resolve. */
  write(makeDurable: () => void): Promise<void> {
    if (this.crashed)
      return new Promise<void>(() => {
        /* a dead disk never answers */
      });
    this.pending++;
    return new Promise<void>((resolve, reject) => {
      const complete = (): void => {
        if (this.crashed) return;
        this.pending--;
        if (this.failing) {
          reject(Object.assign(new Error('EIO: i/o error, fdatasync (simulated disk failure)'), { code: 'EIO', errno: -5, syscall: 'fdatasync' }));
          return;
        }
        this.syncs++;
        makeDurable();
        resolve();
      };
      const clock = this.options.clock;
      if (clock === undefined) {
        queueMicrotask(complete);
        return;
      }
      const now = clock.now();
      const at = Math.max(this.lastCompletion, now + Math.max(0, this.options.syncDelay?.() ?? 0));
      this.lastCompletion = at;
      clock.setTimeout(complete, at - now);
    });
  }

  /** Power loss: what was not durable is gone, and this disk accepts nothing more. */
  crash(): void {
    this.crashed = true;
  }
}
