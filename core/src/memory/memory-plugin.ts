import { ContainerModule } from 'inversify';
import { BACKEND } from '../ports/backend.js';
import { LOG_STORE } from '../ports/log-store.js';
import type { CairnPlugin, PortName } from '../ports/plugin.js';
import { SNAPSHOT_STORE } from '../ports/snapshot-store.js';
import { STABLE_STORE } from '../ports/stable-store.js';
import { TRANSPORT } from '../ports/transport.js';
import { MemoryBackend } from './memory-backend.js';
import { MEMORY_DISK, MemoryDisk } from './memory-disk.js';
import { MemoryLogStore } from './memory-log-store.js';
import { MemorySnapshotStore } from './memory-snapshot-store.js';
import { MemoryStableStore } from './memory-stable-store.js';
import { SingleMemberTransport } from './single-member-transport.js';

/**
 * The builtin `memory` plugin: every storage port in process memory (nothing survives a restart)
 * and the transport of a member alone in its cluster. For tests, demos and ephemeral members;
 * never for data you want to keep.
 */
export const memoryPlugin: CairnPlugin = {
  manifest: {
    name: 'memory',
    provides: ['logStore', 'stableStore', 'snapshotStore', 'backend', 'transport'],
    optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  },
  createModule(_options, context): ContainerModule {
    const wanted = (port: PortName): boolean => context.ports.includes(port);
    return new ContainerModule(({ bind, isBound }) => {
      // The plugin may be chosen for ports in several config entries: the stores still share one disk.
      if (!isBound(MEMORY_DISK)) bind(MEMORY_DISK).to(MemoryDisk).inSingletonScope();
      if (wanted('logStore')) bind(LOG_STORE).to(MemoryLogStore).inSingletonScope();
      if (wanted('stableStore')) bind(STABLE_STORE).to(MemoryStableStore).inSingletonScope();
      if (wanted('snapshotStore')) bind(SNAPSHOT_STORE).to(MemorySnapshotStore).inSingletonScope();
      if (wanted('backend')) bind(BACKEND).to(MemoryBackend).inSingletonScope();
      if (wanted('transport')) bind(TRANSPORT).to(SingleMemberTransport).inSingletonScope();
    });
  },
};
