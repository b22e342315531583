import { SystemClock } from '../../src/ports/system-clock.js';
import { transportConformance } from '../../src/testkit/conformance/transport/index.js';
import { MemoryNetwork } from '../../src/testkit/memory/memory-network.js';
import { SeededRandom } from '../../src/testkit/memory/seeded-random.js';

transportConformance('MemoryTransport (in-process network, real timers)', async (memberCount) => {
  const network = new MemoryNetwork({ clock: new SystemClock(), random: new SeededRandom(7), linkCapacity: 256 });
  const members = Array.from({ length: memberCount }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
  return {
    members,
    peers: new Map(members.map((id) => [id, [`memory://${id}`]])),
    queueSize: 256,
    create: () => network.transport(),
    dispose: async () => undefined,
  };
});
