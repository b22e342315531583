import type { HealthCheck, HealthStatus } from '@cairn/core';
import { inject, injectable } from 'inversify';
import { DATA_DIR_SPACE_OPTIONS, freeBytes, type DataDirSpaceOptions } from './data-dir-space.js';

/** Unready while the data dir's file system is nearly full: better refused than a write that cannot sync. */
@injectable()
export class DataDirSpaceCheck implements HealthCheck {
  readonly name = 'data-dir-space';
  readonly kind = 'readiness';

  constructor(@inject(DATA_DIR_SPACE_OPTIONS) private readonly options: DataDirSpaceOptions) {}

  async check(): Promise<HealthStatus> {
    const free = await freeBytes(this.options.dataDir);
    if (free >= this.options.minFreeBytes) return { healthy: true };
    return { healthy: false, reason: `${free} bytes free under ${this.options.dataDir}, below ${this.options.minFreeBytes}` };
  }
}
