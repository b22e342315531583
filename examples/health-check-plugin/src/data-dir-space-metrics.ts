import type { MetricsCollector } from '@cairn/core';
import { inject, injectable } from 'inversify';
import { Gauge, type Registry } from 'prom-client';
import { DATA_DIR_SPACE_OPTIONS, freeBytes, type DataDirSpaceOptions } from './data-dir-space.js';

/** `cairn_example_data_dir_free_bytes`, read from the file system at each scrape. */
@injectable()
export class DataDirSpaceMetrics implements MetricsCollector {
  constructor(@inject(DATA_DIR_SPACE_OPTIONS) private readonly options: DataDirSpaceOptions) {}

  register(registry: Registry): void {
    const dir = this.options.dataDir;
    new Gauge({
      name: 'cairn_example_data_dir_free_bytes',
      help: 'Free bytes on the file system that holds the data dir.',
      registers: [registry],
      async collect() {
        this.set(await freeBytes(dir));
      },
    });
  }
}
