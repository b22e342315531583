import { decodeStableStateRecord, encodeStableStateRecord, type StableState, type StableStore } from '@cairn/core';
import { inject, injectable } from 'inversify';
import { LmdbEnvironment, quietly } from './lmdb-environment.js';

/** Key in the raft-state database. */
const STABLE_STATE_KEY = 'stable-state';

const copy = (s: StableState): StableState => ({
  hardState: { term: s.hardState.term, vote: s.hardState.vote, commit: s.hardState.commit },
  confState: { voters: [...s.confState.voters], learners: [...s.confState.learners] },
  clusterId: s.clusterId,
  memberId: s.memberId,
});

/**
 * Term, vote, commit, membership and identity as one checksummed record, replaced in one
 * transaction (a crash keeps the old record or the new one). A save issued in the same turn as a
 * log append shares its transaction and its fsync.
 */
@injectable()
export class LmdbStableStore implements StableStore {
  /** The last state saved (or loaded): what load() answers, so it sees saves still syncing. */
  private current: StableState | undefined;
  private lastDurable: Promise<void> = Promise.resolve();
  private opened = false;

  constructor(@inject(LmdbEnvironment) private readonly env: LmdbEnvironment) {}

  async open(): Promise<void> {
    if (this.opened) return;
    await this.env.acquire();
    try {
      const record = this.env.databases.raftState.getBinary(STABLE_STATE_KEY);
      this.current = record === undefined ? undefined : decodeStableStateRecord(record, this.env.dataFile);
    } catch (err) {
      await this.env.release();
      throw err;
    }
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    await this.lastDurable.catch(() => undefined);
    await this.env.release();
  }

  async load(): Promise<StableState | undefined> {
    if (!this.opened) throw new Error(`${this.env.dataFile}: the stable store is not open`);
    return this.current === undefined ? undefined : copy(this.current);
  }

  save(state: StableState): Promise<void> {
    if (!this.opened) return Promise.reject(new Error(`${this.env.dataFile}: the stable store is not open`));
    const saved = copy(state);
    const record = encodeStableStateRecord(saved);
    this.current = saved;
    const { durable } = this.env.write(({ raftState }) => {
      quietly(raftState.put(STABLE_STATE_KEY, record));
    });
    this.lastDurable = durable;
    return durable;
  }
}
