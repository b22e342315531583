import { createRequire } from 'node:module';

/** The storage the `cairn` command defaults to: the Raft log in the WAL, everything else in LMDB. */
const STORAGE = '@cairn/storage-lmdb';
const LOG_STORE = '@cairn/storage-wal';
/** What serves clients when the config asks for a listener (`listen-client-urls`), as for `cairn`. */
const API = ['@cairn/api-grpc', '@cairn/api-http'] as const;
const TRANSPORT_CLUSTER = '@cairn/transport-tcp';

/**
 * A default plugin as a path found from this package (its own dependencies resolve even where the
 * application cannot see them), else by name for the loader to find from the config's directory.
 */
function located(name: string): string {
  try {
    return createRequire(import.meta.url).resolve(name);
  } catch {
    return name;
  }
}

/** The plugins a config without `plugins:` gets, in the shape the core's Member.start takes. */
export interface EmbeddedDefaults {
  readonly storage: string;
  readonly logStore: string;
  readonly transportSingle: string;
  readonly transportCluster: string;
  readonly api: readonly string[];
}

/**
 * The `cairn` command's defaults, except that no API frontend listens unless the config names
 * client URLs to listen on: an embedded member is reached through its in-process channel.
 */
export function embeddedDefaults(keys: Readonly<Record<string, unknown>>): EmbeddedDefaults {
  const listens = keys['listen-client-urls'] !== undefined;
  return {
    storage: located(STORAGE),
    logStore: located(LOG_STORE),
    transportSingle: 'memory',
    transportCluster: located(TRANSPORT_CLUSTER),
    api: listens ? API.map(located) : [],
  };
}
