import { randomBytes } from 'node:crypto';
import { RecordingHandler, waitUntil } from '@cairn/core/testkit';
import { NatsTransport } from '../src/nats-transport.js';
import type { NatsTransportOptions } from '../src/nats-transport-options.js';

/** A started transport and what it received. */
export interface TestMember {
  readonly id: string;
  readonly url: string;
  readonly transport: NatsTransport;
  readonly handler: RecordingHandler;
}

export const CLUSTER_ID = 'c0ffee0000000001';

/** Members on one NATS server, sharing a fresh subject prefix; stops what it started. */
export class TransportHarness {
  readonly prefix = `t${randomBytes(4).toString('hex')}`;
  private readonly started: NatsTransport[] = [];

  constructor(
    private readonly servers: () => readonly string[],
    private readonly defaults: Partial<NatsTransportOptions> = {},
  ) {}

  /** The IDs and peer URLs of members `names`. */
  peers(names: readonly string[]): Map<string, string[]> {
    return new Map(names.map((name) => [idOf(name), [`nats://${name}`]]));
  }

  async start(
    name: string,
    peerNames: readonly string[],
    options: Partial<NatsTransportOptions> = {},
    handler: RecordingHandler = new RecordingHandler(),
  ): Promise<TestMember> {
    const url = `nats://${name}`;
    const transport = new NatsTransport({
      servers: this.servers(),
      subjectPrefix: this.prefix,
      clusterToken: 'harness',
      listen: [url],
      clusterId: CLUSTER_ID,
      reconnectTimeWaitMs: 50,
      reconnectJitterMs: 20,
      ...this.defaults,
      ...options,
    });
    this.started.push(transport);
    transport.setPeers(this.peers(peerNames));
    await transport.start(idOf(name), handler);
    return { id: idOf(name), url, transport, handler };
  }

  async stopAll(): Promise<void> {
    for (const t of this.started.splice(0)) await t.stop();
  }
}

/** A member ID (16 hex digits) derived from a short name. */
export function idOf(name: string): string {
  return Buffer.from(name).toString('hex').padStart(16, '0').slice(-16);
}

export { waitUntil };
