import {
  checkLogStoreCorruption,
  checkSnapshotStoreCorruption,
  checkStableStoreCorruption,
  type CorruptionCheckOptions,
  type CorruptionReport,
} from './corruption.js';
import { checkLogStoreFsyncOrdering, checkStableStoreFsyncOrdering, findStrace, STRACE_MISSING, type FsyncOrderingOptions } from './fsync-ordering.js';
import { checkLogStoreSurvivesSigkill, checkStableStoreSurvivesSigkill } from './sigkill-crash.js';
import type { DiskStoreTarget } from './store-fixture.js';

/** Options of the sections that need a real disk. */
export interface DiskSectionOptions extends CorruptionCheckOptions {
  /** SIGKILL rounds (default 3). */
  readonly killRounds?: number;
  /** Operations the fsync-ordering child runs under strace (default 25). */
  readonly tracedOperations?: number;
  readonly seed?: number;
}

const describeCorruption = (report: CorruptionReport): string => {
  const count = (outcome: string): number => report.rounds.filter((r) => r.outcome === outcome).length;
  return `refused ${count('refused')}, intact ${count('intact')}, tail cut ${count('cut')}${report.tearsSkipped === undefined ? '' : `; tears skipped: ${report.tearsSkipped}`}`;
};

/** Registers the on-disk `describe` of one port's suite. */
export function registerDiskSections(port: 'log' | 'stable' | 'snapshot', target: DiskStoreTarget, options: DiskSectionOptions): void {
  const fsyncOptions: FsyncOrderingOptions = {
    ...(options.tracedOperations === undefined ? {} : { operations: options.tracedOperations }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  const killOptions = {
    ...(options.killRounds === undefined ? {} : { rounds: options.killRounds }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };

  describe('on disk', function () {
    this.timeout(120_000);
    if (port === 'log' || port === 'stable') {
      const noun = port === 'log' ? 'operation' : 'save';
      it(`loses no acknowledged ${noun} when the process is killed with SIGKILL`, async () => {
        await (port === 'log' ? checkLogStoreSurvivesSigkill : checkStableStoreSurvivesSigkill)(target, killOptions);
      });
      it(`makes each ${noun} durable (fsync, fdatasync or msync) before acknowledging it (strace)`, async function () {
        if (findStrace() === undefined) {
          console.log(`      ${STRACE_MISSING}`);
          this.skip();
        }
        await (port === 'log' ? checkLogStoreFsyncOrdering : checkStableStoreFsyncOrdering)(target, fsyncOptions);
      });
    }
    it('refuses damaged files naming them, or reads back exactly what was acknowledged (a torn unacknowledged tail may be cut)', async () => {
      const check = port === 'log' ? checkLogStoreCorruption : port === 'stable' ? checkStableStoreCorruption : checkSnapshotStoreCorruption;
      const report = await check(target, options);
      console.log(`      corruption: ${describeCorruption(report)}`);
    });
  });
}
