/** Ends a lease taken with `StorageGate.lease()`; calling it again does nothing. */
export type ReleaseLease = () => void;

/**
 * Admission to the LMDB environment. Every operation runs concurrently with the others, except an
 * exclusive section (the defragmenting swap of the data file, closing), which needs the
 * environment to itself.
 *
 * Short operations (a commit, a lookup) start synchronously while the gate is open, so writes
 * issued in one turn of the event loop still share one LMDB transaction. Operations that arrive
 * while it is closed wait in a queue, and are started in their order, synchronously, the moment
 * it opens: a log append issued after another never reaches LMDB before it.
 *
 * Leases are for readers that hold a read transaction for long (read views, ranges): an exclusive
 * section first waits for those to end while everything else goes on, and only then closes the
 * gate and waits for the short operations in flight, so a slow reader never stalls the writers.
 */
export class StorageGate {
  private shortActive = 0;
  private leases = 0;
  /** Bumped when the files close: leases taken before then no longer count. */
  private generation = 0;
  private closed = false;
  /** Starts of what arrived while the gate was closed, in order. */
  private queue: (() => void)[] = [];
  private leasesWaiters: (() => void)[] = [];
  private shortWaiters: (() => void)[] = [];

  /** True while an exclusive section runs or waits for the operations in flight. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Run a short operation, now if the gate is open, else as soon as it opens (in arrival order). */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.closed) return this.start(work);
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => this.start(work).then(resolve, reject));
    });
  }

  /** A lease taken now, or undefined while the gate is closed (then use `leaseWhenOpen`). */
  lease(): ReleaseLease | undefined {
    return this.closed ? undefined : this.takeLease();
  }

  leaseWhenOpen(): Promise<ReleaseLease> {
    if (!this.closed) return Promise.resolve(this.takeLease());
    return new Promise<ReleaseLease>((resolve) => {
      this.queue.push(() => resolve(this.takeLease()));
    });
  }

  /** Forget every lease: the files they read are closed (a reader left unreleased must not block the next open's defragment). */
  dropLeases(): void {
    this.generation++;
    this.leases = 0;
    StorageGate.wake(this.leasesWaiters);
  }

  /**
   * Run `work` alone: after every short operation in flight has finished and (unless
   * `ignoreLeases`, as closing does) every lease has ended.
   */
  async exclusive<T>(work: () => Promise<T>, ignoreLeases = false): Promise<T> {
    for (;;) {
      if (this.closed) await new Promise<void>((resolve) => this.queue.push(resolve));
      else if (this.leases > 0 && !ignoreLeases) await new Promise<void>((resolve) => this.leasesWaiters.push(resolve));
      else break;
    }
    // Checked and closed in the same turn: no lease can slip in between.
    this.closed = true;
    try {
      while (this.shortActive > 0) await new Promise<void>((resolve) => this.shortWaiters.push(resolve));
      return await work();
    } finally {
      this.closed = false;
      const queued = this.queue.splice(0);
      for (let i = 0; i < queued.length; i++) {
        // Should a start close the gate again, the rest keep their places at the head of the queue.
        if (this.closed) {
          this.queue.unshift(...queued.slice(i));
          break;
        }
        queued[i]!();
      }
    }
  }

  private start<T>(work: () => Promise<T>): Promise<T> {
    this.shortActive++;
    let result: Promise<T>;
    try {
      result = work();
    } catch (err) {
      this.endShort();
      return Promise.reject(err);
    }
    return result.finally(() => this.endShort());
  }

  private takeLease(): ReleaseLease {
    this.leases++;
    const generation = this.generation;
    let held = true;
    return () => {
      if (!held || generation !== this.generation) return;
      held = false;
      this.leases--;
      if (this.leases === 0) StorageGate.wake(this.leasesWaiters);
    };
  }

  private endShort(): void {
    this.shortActive--;
    if (this.shortActive === 0) StorageGate.wake(this.shortWaiters);
  }

  private static wake(waiters: (() => void)[]): void {
    for (const wake of waiters.splice(0)) wake();
  }
}
