import * as grpc from '@grpc/grpc-js';
import { etcdPackageDefinition, GrpcFrontend, type GrpcFrontendOptions } from '../src/index.js';
import { MapServices } from './map-services.js';

type Callback = (err: grpc.ServiceError | null, response: unknown) => void;
type UnaryMethod = (request: object, callback: Callback) => void;

/** A raw grpc-js client of one etcd service: `call('Put', {...})` resolves the decoded response. */
export class RawClient {
  constructor(readonly client: grpc.Client) {}

  call<T = Record<string, unknown>>(method: string, request: object): Promise<T> {
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, (err, response) => (err !== null ? reject(err) : resolve(response as T)));
    });
  }

  /** The status a failing call ends with. */
  async failure(method: string, request: object): Promise<grpc.ServiceError> {
    try {
      await this.call(method, request);
    } catch (err) {
      return err as grpc.ServiceError;
    }
    throw new Error(`${method} was expected to fail`);
  }

  close(): void {
    this.client.close();
  }
}

export interface Harness {
  readonly services: MapServices;
  readonly frontend: GrpcFrontend;
  readonly address: string;
  readonly port: number;
  client(service: 'KV' | 'Maintenance' | 'Cluster' | 'Watch' | 'Lease' | 'Auth'): RawClient;
  close(): Promise<void>;
}

/** A frontend on 127.0.0.1 (free port) over MapServices, and raw clients of it. */
export async function startHarness(options: Partial<GrpcFrontendOptions> = {}): Promise<Harness> {
  const services = new MapServices();
  const frontend = new GrpcFrontend({ listen: [{ host: '127.0.0.1', port: 0 }], maxRequestBytes: 1.5 * 1024 * 1024, ...options });
  await frontend.start(services);
  const port = frontend.boundAddresses[0]!.port;
  const address = `127.0.0.1:${port}`;
  const loaded = grpc.loadPackageDefinition(etcdPackageDefinition()) as unknown as {
    etcdserverpb: Record<string, new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client>;
  };
  const clients: RawClient[] = [];
  return {
    services,
    frontend,
    address,
    port,
    client(service) {
      const client = new RawClient(new loaded.etcdserverpb[service]!(address, grpc.credentials.createInsecure()));
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await frontend.stop();
    },
  };
}
