import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MemberSpec, PeerTransport } from './cluster-processes.js';

// The nats-servers themselves (started, killed, restarted and stopped by PID) are the plugin's test helpers.
export { NatsServerProcess, NatsServers, skipWithoutNatsServer } from '@cairn/transport-nats/testing';

/** Transport options for the members' config files (beside the servers). */
export interface NatsTransportTuning {
  readonly reconnectTimeWaitMs?: number;
  readonly pingIntervalMs?: number;
}

/**
 * Members over `@cairn/transport-nats`: peer URL `nats://<name>`, and a config file per member
 * (next to its data dir) that chooses the plugin and gives it `serversOf(member)`.
 */
export function natsPeerTransport(serversOf: (spec: MemberSpec) => readonly string[], tuning: NatsTransportTuning = {}): PeerTransport {
  return {
    peerUrl: (spec) => `nats://${spec.name}`,
    args: (spec) => {
      const file = join(dirname(spec.dataDir), `${spec.name}-nats.yaml`);
      const options = {
        use: '@cairn/transport-nats',
        servers: serversOf(spec),
        reconnectTimeWaitMs: tuning.reconnectTimeWaitMs ?? 100,
        ...(tuning.pingIntervalMs === undefined ? {} : { pingIntervalMs: tuning.pingIntervalMs }),
      };
      // JSON is YAML: one line, no YAML writer needed.
      writeFileSync(file, JSON.stringify({ plugins: { transport: options } }));
      return ['--config-file', file];
    },
  };
}
