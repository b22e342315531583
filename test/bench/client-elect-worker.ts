/**
 * One election campaigner for client-recipes-compare (node dist/bench/client-elect-worker.js
 * '<json>'): campaigns with @cairn/client's Election or the etcd3 package's, prints
 * `elected <value> <epoch ms>` once it leads, then stays until killed (SIGKILL by the bench: a
 * crash, nothing resigned) or stopped (SIGTERM: resign and exit).
 */
import { performance } from 'node:perf_hooks';
import { Client, Election } from '@cairn/client';
import { Etcd3 } from 'etcd3';

export interface ElectWorkerConfig {
  readonly library: 'cairn-client' | 'etcd3';
  readonly endpoints: string[];
  readonly name: string;
  readonly value: string;
  readonly ttl: number;
}

const now = (): number => performance.timeOrigin + performance.now();

async function campaign(config: ElectWorkerConfig): Promise<() => Promise<void>> {
  if (config.library === 'cairn-client') {
    const client = new Client({ endpoints: config.endpoints });
    const session = await client.session({ ttl: config.ttl });
    const election = new Election(session, config.name);
    process.stdout.write('campaigning\n');
    await election.campaign(config.value);
    process.stdout.write(`elected ${config.value} ${now()}\n`);
    return async () => {
      await election.resign();
      await session.close();
      await client.close();
    };
  }
  const client = new Etcd3({ hosts: config.endpoints.map((e) => `http://${e}`) });
  const running = client.election(config.name, config.ttl).campaign(config.value);
  process.stdout.write('campaigning\n');
  await running.wait();
  process.stdout.write(`elected ${config.value} ${now()}\n`);
  return async () => {
    await running.resign();
    client.close();
  };
}

const config = JSON.parse(process.argv[2]!) as ElectWorkerConfig;
campaign(config).then(
  (resign) => {
    process.once('SIGTERM', () => void resign().finally(() => process.exit(0)));
    setInterval(() => undefined, 60_000);
  },
  (err: Error) => {
    process.stderr.write(`campaign failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
