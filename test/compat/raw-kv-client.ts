import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { etcdServiceDefinition } from '@cairn/api-grpc';

type Unary = (request: object, callback: (err: ServiceError | null, response: Record<string, unknown>) => void) => void;

/** The etcd KV and Maintenance services over plain gRPC, so tests see status codes and messages exactly. */
export class RawEtcdClient {
  private readonly kv: Client;
  private readonly maintenance: Client;

  constructor(endpoint: string) {
    const Kv = makeGenericClientConstructor(etcdServiceDefinition('KV'), 'KV');
    const Maintenance = makeGenericClientConstructor(etcdServiceDefinition('Maintenance'), 'Maintenance');
    this.kv = new Kv(endpoint, credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
    this.maintenance = new Maintenance(endpoint, credentials.createInsecure());
  }

  call(service: 'kv' | 'maintenance', method: string, request: object): Promise<Record<string, unknown>> {
    const client = (service === 'kv' ? this.kv : this.maintenance) as unknown as Record<string, Unary>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, (err, response) => (err !== null ? reject(err) : resolve(response)));
    });
  }

  /** The error a call fails with (code and message), or undefined when it succeeds. */
  async failure(service: 'kv' | 'maintenance', method: string, request: object): Promise<{ code: number; details: string } | undefined> {
    try {
      await this.call(service, method, request);
      return undefined;
    } catch (err) {
      const e = err as ServiceError;
      return { code: e.code, details: e.details };
    }
  }

  close(): void {
    this.kv.close();
    this.maintenance.close();
  }
}
