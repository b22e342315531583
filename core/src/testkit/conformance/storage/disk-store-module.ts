import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DiskStoreBuilder, DiskStoreModule, DiskStores, DiskStoreTarget, StoreFixtureFactory } from './store-fixture.js';

/** The module's URL as import() takes it. */
export function moduleHref(module: URL | string): string {
  return typeof module === 'string' ? (module.startsWith('file:') ? module : pathToFileURL(module).href) : module.href;
}

/** Imports the target's module and checks that it exports `builder`. */
export async function loadDiskStoreModule(module: URL | string, builder: DiskStoreBuilder): Promise<DiskStoreModule> {
  const loaded = (await import(moduleHref(module))) as DiskStoreModule;
  if (typeof loaded[builder] !== 'function') throw new Error(`${moduleHref(module)} does not export ${builder}(directory)`);
  return loaded;
}

/** Builds the store `builder` makes on `directory`. */
export async function buildDiskStore<B extends DiskStoreBuilder>(module: URL | string, builder: B, directory: string): Promise<DiskStores[B]> {
  const loaded = await loadDiskStoreModule(module, builder);
  return (loaded[builder] as (directory: string) => DiskStores[B] | Promise<DiskStores[B]>)(directory);
}

/** A new empty directory under the OS temporary directory, as its real path (what strace prints). */
export async function temporaryDirectory(label: string): Promise<string> {
  return realpath(await mkdtemp(join(tmpdir(), `cairn-${label}-`)));
}

export async function removeDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}

/** Fixtures over fresh temporary directories, each store made by the target module's `builder`. */
export function diskStoreFactory<B extends DiskStoreBuilder>(target: DiskStoreTarget, builder: B): StoreFixtureFactory<DiskStores[B]> {
  return async () => {
    const directory = await temporaryDirectory('store');
    return {
      directory,
      create: () => buildDiskStore(target.module, builder, directory),
      dispose: () => removeDirectory(directory),
    };
  };
}
