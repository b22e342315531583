import { diskFaultConformance } from '@cairn/core/testkit';

/** The log in the WAL, the rest in LMDB (what `cairn` runs with no config): faults at the log and the backend ports. */
diskFaultConformance('WAL log + LMDB backend', { plugins: { logStore: { use: '@cairn/storage-wal' }, storage: { use: '@cairn/storage-lmdb' } } });
