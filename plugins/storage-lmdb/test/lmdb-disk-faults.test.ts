import { diskFaultConformance } from '@cairn/core/testkit';

diskFaultConformance('LMDB (every storage port)', { plugins: { storage: { use: '@cairn/storage-lmdb' } } });
