import { resolve } from 'node:path';
import { injectable } from 'inversify';
import { LevelDatabase, type LevelDatabaseOptions } from './level-database.js';

interface PooledDatabase {
  readonly database: LevelDatabase;
  users: number;
  readonly opening: Promise<void>;
}

/**
 * The LevelDB databases this process has open, by directory. LevelDB allows one open handle per
 * directory (its LOCK), yet the log, stable and snapshot stores share the raft database, and a
 * config may choose this plugin separately for each port: every store borrows the one handle
 * and the last to give it back closes it.
 */
@injectable()
export class LevelDatabasePool {
  private readonly open = new Map<string, PooledDatabase>();
  /** Closes still running, so a reopen of the same directory waits for the LOCK to be released. */
  private readonly closing = new Map<string, Promise<void>>();

  async acquire(options: LevelDatabaseOptions): Promise<LevelDatabase> {
    const location = resolve(options.location);
    await this.closing.get(location);
    let pooled = this.open.get(location);
    if (pooled === undefined) {
      const database = new LevelDatabase({ ...options, location });
      pooled = { database, users: 0, opening: database.open() };
      this.open.set(location, pooled);
      const entry = pooled;
      entry.opening.catch(() => {
        if (this.open.get(location) === entry) this.open.delete(location);
      });
    }
    pooled.users++;
    try {
      await pooled.opening;
    } catch (err) {
      pooled.users--;
      throw err;
    }
    return pooled.database;
  }

  async release(database: LevelDatabase): Promise<void> {
    const pooled = this.open.get(database.location);
    if (pooled === undefined || pooled.database !== database) return;
    if (--pooled.users > 0) return;
    this.open.delete(database.location);
    const closed = database.close().finally(() => this.closing.delete(database.location));
    this.closing.set(database.location, closed);
    await closed;
  }
}

/** The pool of this process. */
export const levelDatabases = new LevelDatabasePool();
