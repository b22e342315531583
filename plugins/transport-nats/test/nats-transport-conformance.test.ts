import { randomBytes } from 'node:crypto';
import { transportConformance } from '@cairn/core/testkit';
import { connectNats, type NatsClient } from '../src/nats-client.js';
import { MemberSubjects } from '../src/member-subject.js';
import { NatsTransport } from '../src/nats-transport.js';
import { NatsServerProcess, skipWithoutNatsServer } from '../testing/index.js';
import { testClientOptions } from './test-client-options.js';

const QUEUE_SIZE = 256;
const CLUSTER_TOKEN = 'conformance';

/** The transport kit, over one real nats-server that this file starts and stops. */
describe('NatsTransport over a real nats-server', function () {
  let server: NatsServerProcess | undefined;
  let subjects: MemberSubjects | undefined;
  let garbageClient: NatsClient | undefined;

  before(async function () {
    skipWithoutNatsServer(this);
    server = await NatsServerProcess.startAlone();
  });

  after(async () => {
    await garbageClient?.close();
    await server?.stop();
  });

  transportConformance(
    'NatsTransport',
    async (memberCount) => {
      // A fresh subject prefix per test: nothing a previous test left in flight reaches this one.
      const prefix = `kit${randomBytes(4).toString('hex')}`;
      subjects = new MemberSubjects(prefix, CLUSTER_TOKEN);
      const members = Array.from({ length: memberCount }, (_, i) => (i + 1).toString(16).padStart(16, 'a'));
      const peers = new Map(members.map((id, i) => [id, [`nats://m${i + 1}`]]));
      return {
        members,
        peers,
        queueSize: QUEUE_SIZE,
        create: (id) =>
          new NatsTransport({
            servers: [server!.url],
            subjectPrefix: prefix,
            clusterToken: CLUSTER_TOKEN,
            listen: peers.get(id)!,
            clusterId: 'c0ffee0000000001',
            queueSize: QUEUE_SIZE,
            snapshotRetransmitMs: 200,
            snapshotIdleTimeoutMs: 5_000,
          }),
        dispose: async () => undefined,
      };
    },
    {
      rawWire: {
        // NATS has no connection per peer to drop: garbage goes to the member's subject, and must
        // neither become a message nor disturb what follows.
        async sendGarbage(address, bytes) {
          garbageClient ??= await connectNats(testClientOptions(server!.url), () => undefined);
          garbageClient.publish(subjects!.of(address), bytes);
          await garbageClient.flush();
        },
      },
    },
  );
});
