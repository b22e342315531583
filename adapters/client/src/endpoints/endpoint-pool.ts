import type { EtcdChannel } from '../channel/etcd-channel.js';

/** One endpoint of the client and what the client learned about it. */
export class Endpoint {
  private opened: EtcdChannel | undefined;
  healthy = true;
  /** When it last failed (ms epoch), to try the longest-failed one first when all have failed. */
  failedAt = 0;

  constructor(
    readonly name: string,
    private readonly open: (endpoint: string) => EtcdChannel,
  ) {}

  get channel(): EtcdChannel {
    this.opened ??= this.open(this.name);
    return this.opened;
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
  }
}

/**
 * The client's endpoints. Calls go to the preferred one while it is healthy; an endpoint that
 * fails with UNAVAILABLE (or etcd's no-leader errors) is marked unhealthy and the next healthy one
 * becomes preferred. When every endpoint has failed, the one that failed longest ago is tried.
 */
export class EndpointPool {
  readonly endpoints: readonly Endpoint[];
  private preferred = 0;

  constructor(names: readonly string[], open: (endpoint: string) => EtcdChannel) {
    if (names.length === 0) throw new Error('a client needs at least one endpoint');
    this.endpoints = names.map((name) => new Endpoint(name, open));
  }

  /** The endpoint to use next, skipping those in `exclude`; undefined when all are excluded. */
  pick(exclude: ReadonlySet<Endpoint> = new Set()): Endpoint | undefined {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const endpoint = this.endpoints[(this.preferred + i) % n]!;
      if (endpoint.healthy && !exclude.has(endpoint)) return endpoint;
    }
    let oldest: Endpoint | undefined;
    for (const endpoint of this.endpoints) {
      if (exclude.has(endpoint)) continue;
      if (oldest === undefined || endpoint.failedAt < oldest.failedAt) oldest = endpoint;
    }
    return oldest;
  }

  /** The endpoint called `name` (as given to the client); throws for an unknown one. */
  named(name: string): Endpoint {
    const found = this.endpoints.find((e) => e.name === name || e.channel.target === name);
    if (found === undefined) throw new Error(`${name} is not one of the client's endpoints`);
    return found;
  }

  markUnhealthy(endpoint: Endpoint): void {
    endpoint.healthy = false;
    endpoint.failedAt = Date.now();
    const index = this.endpoints.indexOf(endpoint);
    if (index === this.preferred) this.preferred = (index + 1) % this.endpoints.length;
  }

  markHealthy(endpoint: Endpoint): void {
    if (endpoint.healthy) return;
    endpoint.healthy = true;
    // Stay on the endpoint that works now instead of hopping back.
    if (!this.endpoints[this.preferred]!.healthy) this.preferred = this.endpoints.indexOf(endpoint);
  }

  close(): void {
    for (const endpoint of this.endpoints) endpoint.close();
  }
}
