import type { LevelDatabase, LevelDatabaseOptions } from './level-database.js';
import type { LevelDatabasePool } from './level-database-pool.js';

/**
 * A store's borrowed handle on a pooled LevelDB database, the lifecycle every store here shares:
 * `open(load)` acquires the database once and keeps it only if `load` read it without error (a
 * failed open gives it back and may be tried again); `close(beforeRelease)` makes the store read
 * as closed at once, runs its own clean-up, and gives the database back exactly once.
 */
export class PooledDatabaseHandle {
  private current: LevelDatabase | undefined;
  private opening: Promise<void> | undefined;

  constructor(
    private readonly pool: LevelDatabasePool,
    private readonly options: LevelDatabaseOptions,
  ) {}

  get location(): string {
    return this.options.location;
  }

  /** The open database, or undefined before open and after close. */
  get database(): LevelDatabase | undefined {
    return this.current;
  }

  open(load: (database: LevelDatabase) => Promise<void> = async () => undefined): Promise<void> {
    this.opening ??= this.acquire(load).catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  async close(beforeRelease?: (database: LevelDatabase) => Promise<void>): Promise<void> {
    const database = this.current;
    if (database === undefined) return;
    this.current = undefined;
    this.opening = undefined;
    await beforeRelease?.(database);
    await this.pool.release(database);
  }

  private async acquire(load: (database: LevelDatabase) => Promise<void>): Promise<void> {
    const database = await this.pool.acquire(this.options);
    try {
      await load(database);
    } catch (err) {
      await this.pool.release(database);
      throw err;
    }
    this.current = database;
  }
}
