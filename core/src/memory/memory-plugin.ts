import { ContainerModule } from 'inversify';
import type { CairnPlugin, PortName } from '../../assembly/plugin.js';
import { BACKEND } from '../../ports/backend.js';
import { LOG_STORE } from '../../ports/log-store.js';
import { SNAPSHOT_STORE } from '../../ports/snapshot-store.js';
import { STABLE_STORE } from '../../ports/stable-store.js';
import { SystemClock } from '../../ports/system-clock.js';
import { SystemRandom } from '../../ports/system-random.js';
import { TRANSPORT } from '../../ports/transport.js';
import { MemoryBackend } from './memory-backend.js';
import { MemoryDisk } from './memory-disk.js';
import { MemoryLogStore } from './memory-log-store.js';
import { MemoryNetwork } from './memory-network.js';
import { MemorySnapshotStore } from './memory-snapshot-store.js';
import { MemoryStableStore } from './memory-stable-store.js';

/**
 * The builtin `memory` plugin: every storage port in process memory (nothing survives a restart)
 * and an in-process transport (a single member, or members of one process). For tests, demos and
 * the simulator; never for data you want to keep.
 */
export const memoryPlugin: CairnPlugin = {
  manifest: {
    name: 'memory',
    provides: ['logStore', 'stableStore', 'snapshotStore', 'backend', 'transport'],
    optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  },
  createModule(_options, context) {
    const disk = new MemoryDisk();
    const wanted = (port: PortName): boolean => context.ports.includes(port);
    return new ContainerModule(({ bind }) => {
      if (wanted('logStore')) bind(LOG_STORE).toConstantValue(new MemoryLogStore(disk));
      if (wanted('stableStore')) bind(STABLE_STORE).toConstantValue(new MemoryStableStore(disk));
      if (wanted('snapshotStore')) bind(SNAPSHOT_STORE).toConstantValue(new MemorySnapshotStore(disk));
      if (wanted('backend')) bind(BACKEND).toConstantValue(new MemoryBackend());
      if (wanted('transport')) {
        bind(TRANSPORT).toConstantValue(new MemoryNetwork({ clock: new SystemClock(), random: new SystemRandom() }).transport());
      }
    });
  },
};
