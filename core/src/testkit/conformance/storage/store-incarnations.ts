import type { Lifecycle } from '../../../ports/lifecycle.js';
import type { StoreFixture, StoreFixtureFactory } from './store-fixture.js';

/**
 * The successive stores of one member over one fixture: the current one is open; `reopen()` closes
 * it and opens the next, `crashAndReopen()` power-fails it instead. Checks take one of these.
 */
export class StoreIncarnations<S extends Lifecycle> {
  private current: S | undefined;
  /** Stores opened so far, the first included. */
  count = 0;

  private constructor(readonly fixture: StoreFixture<S>) {}

  /** A fresh fixture from `factory` with its first store open. */
  static async open<S extends Lifecycle>(factory: StoreFixtureFactory<S>): Promise<StoreIncarnations<S>> {
    const incarnations = new StoreIncarnations(await factory());
    try {
      await incarnations.next();
    } catch (err) {
      await incarnations.fixture.dispose();
      throw err;
    }
    return incarnations;
  }

  /** The open store. */
  get store(): S {
    if (this.current === undefined) throw new Error('no store is open');
    return this.current;
  }

  get canCrash(): boolean {
    return this.fixture.crash !== undefined;
  }

  /** Close the open store and open the next incarnation. */
  async reopen(): Promise<S> {
    await this.close();
    return this.next();
  }

  /** Power-fail the open store (fixtures with `crash()` only) and open the next incarnation. */
  async crashAndReopen(): Promise<S> {
    if (this.fixture.crash === undefined) throw new Error('this fixture cannot simulate a crash');
    this.fixture.crash();
    this.current = undefined;
    return this.next();
  }

  async close(): Promise<void> {
    const store = this.current;
    this.current = undefined;
    await store?.close();
  }

  /** Close what is open and release the fixture. */
  async dispose(): Promise<void> {
    try {
      await this.close();
    } finally {
      await this.fixture.dispose();
    }
  }

  private async next(): Promise<S> {
    const store = await this.fixture.create();
    await store.open();
    this.current = store;
    this.count++;
    return store;
  }
}

/** A named check of one port, callable on its own or as a mocha `it`. */
export interface StorageCheck<S extends Lifecycle> {
  readonly title: string;
  run(stores: StoreIncarnations<S>): Promise<void>;
}

/** Runs `check` on a fresh fixture from `factory`, releasing everything afterwards. */
export async function runStorageCheck<S extends Lifecycle>(factory: StoreFixtureFactory<S>, check: StorageCheck<S>): Promise<void> {
  const stores = await StoreIncarnations.open(factory);
  try {
    await check.run(stores);
  } catch (err) {
    // The check's failure is the news; a store that also fails to close must not hide it.
    await stores.dispose().catch(() => undefined);
    throw err;
  }
  await stores.dispose();
}
