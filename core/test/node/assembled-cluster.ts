import { ContainerModule } from 'inversify';
import type { CairnServices } from '../../src/api/services.js';
import { configFrom } from '../../src/assembly/config-loader.js';
import { etcdApplication } from '../../src/assembly/etcd-application.js';
import { createMemberContainer, Member, memberTopology } from '../../src/assembly/member.js';
import { MemoryBackend } from '../../src/memory/memory-backend.js';
import { BACKEND } from '../../src/ports/backend.js';
import { CLOCK } from '../../src/ports/clock.js';
import { DEFERRAL } from '../../src/ports/deferral.js';
import { LOG_STORE } from '../../src/ports/log-store.js';
import { RANDOM } from '../../src/ports/random.js';
import { SNAPSHOT_STORE } from '../../src/ports/snapshot-store.js';
import { STABLE_STORE } from '../../src/ports/stable-store.js';
import { TRANSPORT } from '../../src/ports/transport.js';
import { RaftNode } from '../../src/raft/node.js';
import { VirtualClockDeferral } from '../../src/testkit/memory/virtual-clock.js';
import { TestCluster } from './cluster-harness.js';

export const CLUSTER_NAMES = ['a', 'b', 'c'];

/** A member's config in the harness's Raft timing (10 ms ticks, 100 ms elections), with `extra` keys. */
export const clusterMemberConfig = (name: string, token: string, extra: Readonly<Record<string, unknown>> = {}) =>
  configFrom({
    'name': name,
    'data-dir': '/nowhere',
    'initial-advertise-peer-urls': `mem://${name}`,
    'initial-cluster': CLUSTER_NAMES.map((n) => `${n}=mem://${n}`).join(','),
    'initial-cluster-token': token,
    'heartbeat-interval': 10,
    'election-timeout': 100,
    'quota-backend-bytes': -1,
    'log-level': 'error',
    ...extra,
  });

/** The member IDs of `CLUSTER_NAMES` under `token`, in that order. */
export const clusterMemberIds = (token: string): string[] => CLUSTER_NAMES.map((name) => memberTopology(clusterMemberConfig(name, token)).identity.memberId);

/**
 * Three members assembled by the same container modules as `cairn` (MVCC, leases, auth, services),
 * with only the clock, random, deferral, transport and storage rebound: the harness's virtual
 * clock, memory network and memory stores. Resolves once a leader is elected.
 */
export async function assembledCluster(token: string, extra: Readonly<Record<string, unknown>> = {}) {
  const ids = clusterMemberIds(token);
  const cluster = new TestCluster(ids);
  const services = new Map<string, CairnServices>();
  const members: Member[] = [];
  const launches: Promise<void>[] = [];
  for (const [i, id] of ids.entries()) {
    const m = cluster.member(id);
    const { container } = await createMemberContainer({
      config: clusterMemberConfig(CLUSTER_NAMES[i]!, token, extra),
      application: etcdApplication,
      logger: cluster.logger,
    });
    await container.loadAsync(
      new ContainerModule(({ bind, rebind }) => {
        rebind(CLOCK).toConstantValue(cluster.clock);
        rebind(RANDOM).toConstantValue(cluster.random.fork());
        rebind(DEFERRAL).toConstantValue(new VirtualClockDeferral(cluster.clock));
        bind(TRANSPORT).toConstantValue(cluster.network.transport());
        bind(LOG_STORE).toConstantValue(m.log);
        bind(STABLE_STORE).toConstantValue(m.stable);
        bind(SNAPSHOT_STORE).toConstantValue(m.snapshots);
        bind(BACKEND).toConstantValue(new MemoryBackend());
      }),
    );
    m.node = container.get(RaftNode);
    launches.push(
      Member.launch(container).then((member) => {
        members.push(member);
        services.set(id, member.services);
      }),
    );
  }
  await cluster.clock.settle(Promise.all(launches));
  const leader = await cluster.waitForLeader();
  return { ids, cluster, services, members, leader };
}
