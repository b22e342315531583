import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessCluster } from '../e2e/cluster-processes.js';
import { startCairn, startEtcd, ETCD_BIN, type ServerProcess } from '../compat/processes.js';

/** The servers the client's suites run against: one Cairn member, three Cairn members, one real etcd 3.4. */
export type TargetKind = 'cairn-member' | 'cairn-cluster' | 'etcd';

export const TARGET_KINDS: readonly TargetKind[] = ['cairn-member', 'cairn-cluster', 'etcd'];

/** A running server (or cluster) of real processes, stopped by PID with `stop()`. */
export interface Target {
  readonly kind: TargetKind;
  /** Every member's client endpoint (`127.0.0.1:port`): the client is given all of them. */
  readonly endpoints: string[];
  /** The member processes when `kind` is a cluster (for faults). */
  readonly cluster?: ProcessCluster;
  stop(): Promise<void>;
}

/** Why `kind` cannot run here, or undefined when it can. */
export function targetMissing(kind: TargetKind): string | undefined {
  return kind === 'etcd' && !ProcessCluster.etcdInstalled() ? `${ETCD_BIN} is missing (apt-get install etcd-server)` : undefined;
}

/** Starts `kind` in a fresh temporary dir, removed again by `stop()`. */
export async function startTarget(kind: TargetKind): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `cairn-client-${kind}-`));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    if (kind === 'cairn-cluster') {
      const cluster = await ProcessCluster.start('cairn', dir, 3);
      await cluster.leader();
      return {
        kind,
        endpoints: cluster.members.map((m) => m.endpoint),
        cluster,
        stop: async () => {
          await cluster.stop();
          await cleanup();
        },
      };
    }
    const server: ServerProcess | undefined = kind === 'etcd' ? await startEtcd(join(dir, 'data')) : await startCairn(join(dir, 'data'));
    if (server === undefined) throw new Error(targetMissing(kind) ?? `${kind} did not start`);
    return {
      kind,
      endpoints: [server.endpoint],
      stop: async () => {
        await server.stop();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
