import { transportConformance } from '@cairn/core/testkit';
import { TcpTransport } from '../src/tcp-transport.js';
import { freeLoopbackPorts } from './loopback-ports.js';
import { tcpRawWire } from './raw-peer-wire.js';

const QUEUE_SIZE = 256;

transportConformance(
  'TcpTransport',
  async (memberCount) => {
    const ports = await freeLoopbackPorts(memberCount);
    const members = ports.map((_, i) => `${(i + 1).toString(16).padStart(16, 'a')}`);
    // Alternate the two accepted schemes, so both are exercised.
    const peers = new Map(members.map((id, i) => [id, [`${i % 2 === 0 ? 'tcp' : 'http'}://127.0.0.1:${ports[i]}`]]));
    return {
      members,
      peers,
      queueSize: QUEUE_SIZE,
      create: (id) =>
        new TcpTransport({
          listen: `127.0.0.1:${ports[members.indexOf(id)]}`,
          clusterId: 'c0ffee0000000001',
          queueSize: QUEUE_SIZE,
          reconnect: { initialMs: 10, maxMs: 200 },
        }),
      dispose: async () => undefined,
    };
  },
  { rawWire: tcpRawWire },
);
