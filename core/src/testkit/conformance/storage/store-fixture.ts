import type { Backend } from '../../../ports/backend.js';
import type { Lifecycle } from '../../../ports/lifecycle.js';
import type { LogStore } from '../../../ports/log-store.js';
import type { SnapshotStore } from '../../../ports/snapshot-store.js';
import type { StableStore } from '../../../ports/stable-store.js';

/**
 * One place where a store keeps its state, and a way to open stores over it again and again. The
 * kit takes a fresh fixture per test and plays the incarnations of one member on it: create, open,
 * use, close, create again, and so on.
 */
export interface StoreFixture<S extends Lifecycle> {
  /**
   * A new, unopened store over this fixture's state. Called once per incarnation, after the
   * previous store was closed (or crashed); the new store must hold everything the previous one
   * made durable.
   */
  create(): S | Promise<S>;
  /**
   * Simulated power loss, for in-memory stores: what is not durable is gone, the current store is
   * dead (the kit never touches it again) and the next `create()` sees only durable state.
   * Given, the kit also runs its in-process crash checks.
   */
  crash?(): void;
  /** Where the stores keep their files, for stores that do: the kit measures it (retention, leftovers of failed writes). */
  readonly directory?: string;
  /** Release what the fixture holds; called once, after its last store was closed or crashed. */
  dispose(): Promise<void>;
}

/** Builds a fresh fixture (one per test). */
export type StoreFixtureFactory<S extends Lifecycle> = () => Promise<StoreFixture<S>>;

/** The store each builder of a disk store module makes. */
export interface DiskStores {
  createLogStore: LogStore;
  createStableStore: StableStore;
  createSnapshotStore: SnapshotStore;
  createBackend: Backend;
}

/** The builder names of DiskStoreModule, one per port. */
export type DiskStoreBuilder = keyof DiskStores;

/**
 * What a disk store module exports: builders of unopened stores that keep all their files under
 * `directory` (which exists and is empty the first time). A module may export only some of them.
 */
export type DiskStoreModule = { readonly [B in DiskStoreBuilder]?: (directory: string) => DiskStores[B] | Promise<DiskStores[B]> };

/**
 * A store that lives in files. Passing one instead of a factory runs everything, including the
 * sections that need a real disk: SIGKILL crashes, fsync ordering under strace, corruption.
 */
export interface DiskStoreTarget {
  /**
   * The module that exports the DiskStoreModule builders: a file: URL (e.g.
   * `new URL('./lmdb-stores.js', import.meta.url)`) or an absolute path. The kit imports it in
   * child processes started with this process's Node binary and execArgv (so `--import tsx`
   * carries over), and in this process to reopen what the children left.
   */
  readonly module: URL | string;
  /**
   * The files that hold the store's data, as paths relative to the directory with '/' separators
   * (e.g. /^data\.mdb$/, or /(\.log|\.ldb|^MANIFEST-\d+|^CURRENT)$/): the corruption checks damage these.
   */
  readonly dataFiles: RegExp;
}

export const isDiskStoreTarget = (target: unknown): target is DiskStoreTarget =>
  typeof target === 'object' && target !== null && 'module' in target && 'dataFiles' in target;
