import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { etcdPackageDefinition } from '@cairn/client';

/** The status a gRPC client got from the member's gRPC frontend: what the in-process channel must equal. */
export interface GrpcOutcome {
  readonly code: number;
  readonly details: string;
}

type UnaryFn = (request: object, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, response?: object) => void) => void;

/**
 * A bare grpc-js client of etcd's protos (loaded as the gRPC frontend loads them), the reference
 * the in-process channel is compared with: the same request sent to the same member over a socket.
 */
export class GrpcReference {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly definitions: protoLoader.PackageDefinition;

  constructor(private readonly address: string) {
    this.definitions = etcdPackageDefinition();
  }

  private client(service: string): grpc.Client {
    let client = this.clients.get(service);
    if (client === undefined) {
      const Constructor = grpc.makeGenericClientConstructor(this.definitions[service] as grpc.ServiceDefinition, service);
      client = new Constructor(this.address, grpc.credentials.createInsecure());
      this.clients.set(service, client);
    }
    return client;
  }

  /** The response, or the status it failed with. */
  unary(service: string, method: string, request: object, token?: string): Promise<{ response?: object; error?: GrpcOutcome }> {
    const metadata = new grpc.Metadata();
    if (token !== undefined) metadata.set('token', token);
    const call = (this.client(service) as unknown as Record<string, UnaryFn>)[method]!.bind(this.client(service));
    return new Promise((resolve) => {
      call(request, metadata, (err, response) => {
        if (err !== null) resolve({ error: { code: err.code, details: err.details } });
        else resolve({ response: response! });
      });
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
