import { logStoreConformance } from '@cairn/core/testkit';

/** The kit's LogStore suite with its on-disk sections (SIGKILL, strace fsync order, flipped and torn files). */
logStoreConformance('WalLogStore', { module: new URL('./wal-disk-stores.js', import.meta.url), dataFiles: /^[0-9a-f]{16}\.wal$/ });
