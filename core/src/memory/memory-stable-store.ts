import { inject, injectable, optional, unmanaged } from 'inversify';
import type { StableState, StableStore } from '../ports/stable-store.js';
import { MEMORY_DISK, MemoryDisk } from './memory-disk.js';

const copy = (s: StableState): StableState => ({
  hardState: { ...s.hardState },
  confState: { voters: [...s.confState.voters], learners: [...s.confState.learners] },
  clusterId: s.clusterId,
  memberId: s.memberId,
});

/** Term, vote, commit, membership and identity in memory; a crash keeps the last durable save. */
@injectable()
export class MemoryStableStore implements StableStore {
  private visible: StableState | undefined;
  private durable: StableState | undefined;
  /** Number of save calls, for tests. */
  saveCalls = 0;

  constructor(
    @inject(MEMORY_DISK) @optional() private readonly disk: MemoryDisk = new MemoryDisk(),
    @unmanaged() initial?: StableState,
  ) {
    this.durable = initial === undefined ? undefined : copy(initial);
    this.visible = this.durable;
  }

  async open(): Promise<void> {
    /* nothing to acquire */
  }
  async close(): Promise<void> {
    /* nothing to release */
  }

  /** A fresh store on `disk` holding only what this one had made durable. */
  recover(disk: MemoryDisk): MemoryStableStore {
    return new MemoryStableStore(disk, this.durable);
  }

  async load(): Promise<StableState | undefined> {
    return this.visible === undefined ? undefined : copy(this.visible);
  }

  save(state: StableState): Promise<void> {
    this.saveCalls++;
    const saved = copy(state);
    this.visible = saved;
    return this.disk.write(() => {
      this.durable = saved;
    });
  }
}
