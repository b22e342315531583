import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { BenchOptions } from './bench-options.js';
import { decodeAuthenticateToken, encodeAuthenticateRequest } from './etcd-request-encoding.js';

export type KvMethod = 'Range' | 'Put' | 'Txn';

const passThrough = (bytes: Buffer): Buffer => bytes;

function credentialsFor(tls: BenchOptions['tls']): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  const read = (file: string | undefined): Buffer | null => (file === undefined ? null : readFileSync(file));
  return grpc.credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

/**
 * One gRPC connection to one endpoint, sending pre-encoded etcd KV requests. Responses are not
 * decoded: the status says whether the call succeeded, which is all a load generator needs. With
 * a user, the connection authenticates once and sends the token as etcd clients do ("token" metadata).
 */
export class EtcdKvChannel {
  private readonly client: grpc.Client;
  private metadata = new grpc.Metadata();

  constructor(
    readonly endpoint: string,
    private readonly security: Pick<BenchOptions, 'user' | 'tls'> = {},
  ) {
    this.client = new grpc.Client(endpoint, credentialsFor(security.tls), {
      // Without this grpc-js shares one connection among all clients of the same target.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
    });
  }

  /** Resolves once connected (and authenticated), so connection setup is not measured. */
  async ready(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(new Error(`${this.endpoint}: ${err.message}`)) : resolve()));
    });
    const user = this.security.user;
    if (user === undefined) return;
    const response = await this.unary('/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(user.name, user.password));
    this.metadata = new grpc.Metadata();
    this.metadata.set('token', decodeAuthenticateToken(response));
  }

  call(method: KvMethod, request: Buffer): Promise<Buffer> {
    return this.unary(`/etcdserverpb.KV/${method}`, request);
  }

  close(): void {
    this.client.close();
  }

  private unary(path: string, request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, passThrough, passThrough, request, this.metadata, (err: grpc.ServiceError | null, response?: Buffer) =>
        err ? reject(err) : resolve(response!),
      );
    });
  }
}
