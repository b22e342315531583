import { mkdir } from 'node:fs/promises';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { NatsServerProcess } from './nats-server-process.js';

/** The nats-servers of a test: one alone, or several routed into one NATS cluster. */
export class NatsServers {
  private constructor(readonly servers: readonly NatsServerProcess[]) {}

  /** `count` servers with their config files under `dir`; more than one are routed to each other (a full mesh). */
  static async start(dir: string, count = 1): Promise<NatsServers> {
    await mkdir(dir, { recursive: true });
    const ports = await Promise.all(Array.from({ length: count }, () => freeLoopbackPort()));
    const routePorts = count > 1 ? await Promise.all(Array.from({ length: count }, () => freeLoopbackPort())) : [];
    const servers = ports.map((port, i) => {
      const routes = routePorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
      const cluster = count > 1 ? `cluster { name: cairn-e2e, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes.join(', ')}] }` : '';
      return new NatsServerProcess(`nats-${i + 1}`, port, dir, cluster);
    });
    const started = new NatsServers(servers);
    try {
      await Promise.all(servers.map((s) => s.start()));
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
