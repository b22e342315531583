import * as grpc from '@grpc/grpc-js';

export type KvMethod = 'Range' | 'Put' | 'Txn';

const passThrough = (bytes: Buffer): Buffer => bytes;

/**
 * One gRPC connection to one endpoint, sending pre-encoded etcd KV requests. Responses are not
 * decoded: the status says whether the call succeeded, which is all a load generator needs.
 */
export class EtcdKvChannel {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      // Without this grpc-js shares one connection among all clients of the same target.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
    });
  }

  /** Resolves once connected, so connection setup is not measured. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(new Error(`${this.endpoint}: ${err.message}`)) : resolve()));
    });
  }

  call(method: KvMethod, request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(`/etcdserverpb.KV/${method}`, passThrough, passThrough, request, (err: grpc.ServiceError | null, response?: Buffer) =>
        err ? reject(err) : resolve(response!),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
