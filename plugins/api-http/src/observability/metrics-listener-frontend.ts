import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject, injectable } from 'inversify';
import type { ApiFrontend, CairnServices } from '@cairn/core';
import { HTTP_METRICS_URLS } from '../tokens.js';
import { goError } from './http-answers.js';
import { ObservabilityEndpoints } from './observability-endpoints.js';

/** `http://host:port` of --listen-metrics-urls as a listen address (IPv6 hosts in brackets). */
export function metricsListenAddress(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--listen-metrics-urls: "${url}" is not a URL (expected http://host:port)`);
  }
  if (parsed.protocol !== 'http:') throw new Error(`--listen-metrics-urls: "${url}": only http:// is served (no TLS on the metrics listener yet)`);
  if (parsed.port === '') throw new Error(`--listen-metrics-urls: "${url}" names no port`);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port) };
}

/**
 * etcd's --listen-metrics-urls: listeners of their own that serve /metrics and the health
 * endpoints (/health, /livez, /readyz and their sub-paths) and nothing else — /v3/... and
 * /version are 404 there, as in etcd — so a scraper or a probe need not reach the client port.
 */
@injectable()
export class MetricsListenerFrontend implements ApiFrontend {
  private servers: Server[] = [];
  private bound: { host: string; port: number }[] = [];

  constructor(
    @inject(HTTP_METRICS_URLS) private readonly urls: readonly string[],
    @inject(ObservabilityEndpoints) private readonly endpoints: ObservabilityEndpoints,
  ) {}

  /** Where it listens (ports resolved), in the order of the URLs. */
  get boundAddresses(): readonly { host: string; port: number }[] {
    return this.bound;
  }

  async start(services: CairnServices): Promise<void> {
    if (this.servers.length > 0) throw new Error('MetricsListenerFrontend: already started');
    const addresses = this.urls.map(metricsListenAddress);
    try {
      for (const address of addresses) {
        const server = createServer((request: IncomingMessage, response: ServerResponse) => {
          if (!this.endpoints.serve(request, response, services, 'metrics')) goError(response, 'metrics', 404, '404 page not found');
        });
        this.servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address.host, port: address.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.bound.push({ host: address.host, port: (server.address() as AddressInfo).port });
      }
    } catch (err) {
      await this.stop();
      throw new Error(`--listen-metrics-urls: cannot listen: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.bound = [];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }
}
