import { HEALTH_CHECK, METRICS_COLLECTOR, type CairnPlugin, type PluginContext } from '@cairn/core';
import { ContainerModule } from 'inversify';
import { DATA_DIR_SPACE_OPTIONS, type DataDirSpaceOptions } from './data-dir-space.js';
import { DataDirSpaceCheck } from './data-dir-space-check.js';
import { DataDirSpaceMetrics } from './data-dir-space-metrics.js';

export { DataDirSpaceCheck, DataDirSpaceMetrics };

/** A plugin that binds no port: it contributes a health check and a metric to the member's container. */
const plugin: CairnPlugin<{ minFreeBytes: number }> = {
  manifest: {
    name: 'cairn-example-data-dir-health',
    provides: [],
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { minFreeBytes: { type: 'integer', minimum: 0, default: 64 * 1024 * 1024 } },
    },
  },
  createModule(options, context: PluginContext) {
    return new ContainerModule(({ bind }) => {
      const values: DataDirSpaceOptions = { dataDir: context.dataDir, minFreeBytes: options.minFreeBytes };
      bind(DATA_DIR_SPACE_OPTIONS).toConstantValue(values);
      bind(HEALTH_CHECK).to(DataDirSpaceCheck).inSingletonScope();
      bind(METRICS_COLLECTOR).to(DataDirSpaceMetrics).inSingletonScope();
    });
  },
};

export default plugin;
