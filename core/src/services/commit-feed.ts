import { inject, injectable } from 'inversify';
import { MvccStore, type MvccEvent } from '../mvcc/mvcc-store.js';

export type CommitListener = (events: readonly MvccEvent[], revision: number) => void;

/**
 * The MVCC store's committed events, fanned out to listeners that come and go (a lock waiter, an
 * election observer): the store keeps its listeners for life, so this registers with it once.
 */
@injectable()
export class CommitFeed {
  private readonly listeners = new Set<CommitListener>();

  constructor(@inject(MvccStore) store: MvccStore) {
    store.onCommit((events, revision) => {
      for (const listener of this.listeners) listener(events, revision);
    });
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
