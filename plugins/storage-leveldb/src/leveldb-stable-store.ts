import { inject, injectable, optional } from 'inversify';
import { decodeStableStateRecord, encodeStableStateRecord, type StableState, type StableStore } from '@cairn/core';
import type { LevelDatabase, LevelDatabaseOptions } from './level-database.js';
import { LevelDatabasePool, levelDatabases } from './level-database-pool.js';
import { PooledDatabaseHandle } from './pooled-database-handle.js';
import { STABLE_STATE_KEY } from './key-layout.js';
import { LEVELDB_RAFT_DATABASE } from './tokens.js';

const copy = (s: StableState): StableState => ({
  hardState: { term: s.hardState.term, vote: s.hardState.vote, commit: s.hardState.commit },
  confState: { voters: [...s.confState.voters], learners: [...s.confState.learners] },
  clusterId: s.clusterId,
  memberId: s.memberId,
});

/**
 * Term, vote, commit, membership and identity as one checksummed record under one key (`H`) of
 * the raft database: a LevelDB batch is atomic, so a crash leaves the old or the new record. Each
 * save is written with `sync`, merged with a log append issued in the same turn into one fsync.
 */
@injectable()
export class LevelDbStableStore implements StableStore {
  private readonly handle: PooledDatabaseHandle;
  private state: StableState | undefined;

  /** `database`: the raft database, shared with the log and snapshot stores. */
  constructor(@inject(LEVELDB_RAFT_DATABASE) database: LevelDatabaseOptions, @inject(LevelDatabasePool) @optional() pool: LevelDatabasePool = levelDatabases) {
    this.handle = new PooledDatabaseHandle(pool, database);
  }

  get location(): string {
    return this.handle.location;
  }

  private get database(): LevelDatabase | undefined {
    return this.handle.database;
  }

  open(): Promise<void> {
    return this.handle.open((database) => this.readFromDisk(database));
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  async load(): Promise<StableState | undefined> {
    if (this.database === undefined) throw this.notOpen();
    return this.state === undefined ? undefined : copy(this.state);
  }

  save(state: StableState): Promise<void> {
    const database = this.database;
    if (database === undefined) return Promise.reject(this.notOpen());
    const saved = copy(state);
    const write = database.write([{ type: 'put', key: STABLE_STATE_KEY, value: encodeStableStateRecord(saved) }], true);
    this.state = saved;
    return write;
  }

  private async readFromDisk(database: LevelDatabase): Promise<void> {
    const record = await database.read(STABLE_STATE_KEY);
    this.state = record === undefined ? undefined : decodeStableStateRecord(record, database.location);
  }

  private notOpen(): Error {
    return new Error(`${this.location}: stable store is not open`);
  }
}
