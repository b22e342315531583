import { diskFaultConformance } from '@cairn/core/testkit';

diskFaultConformance('LevelDB (every storage port)', { plugins: { storage: { use: '@cairn/storage-leveldb' } } });
