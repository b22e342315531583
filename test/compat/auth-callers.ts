import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { etcdServiceDefinition } from '@cairn/api-grpc';

/** The etcd services a permission case calls, by their gRPC names. */
export type EtcdServiceName = 'KV' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';

/**
 * What a call answered, as one line both frontends and both servers can be compared on: `ok`, or
 * `error <gRPC code> <message>`; a watch create `watch created` or `watch canceled <reason>`.
 */
export type Answer = string;

/** One way of calling a member: etcd's gRPC API or its JSON gateway, with a token or none. */
export interface EtcdCaller {
  readonly name: string;
  /** A unary call; `request` in the gateway's JSON form (bytes as base64, int64 as strings), which the gRPC caller converts. */
  unary(service: EtcdServiceName, method: string, request: Record<string, unknown>): Promise<Answer>;
  /** The answer to one watch create on a new Watch stream. */
  watch(create: Record<string, unknown>): Promise<Answer>;
  /** Maintenance.Snapshot read to its end. */
  snapshot(): Promise<Answer>;
  /** The same caller presenting `token` (undefined: none). */
  withToken(token: string | undefined): EtcdCaller;
  /** Authenticate and return the token. */
  authenticate(name: string, password: string): Promise<string>;
  close(): void;
}

/** Gateway paths of the methods the tables call (etcd 3.4's grpc-gateway routes). */
const GATEWAY_PATHS: Readonly<Record<string, string>> = {
  'KV/Range': '/v3/kv/range',
  'KV/Put': '/v3/kv/put',
  'KV/DeleteRange': '/v3/kv/deleterange',
  'KV/Txn': '/v3/kv/txn',
  'KV/Compact': '/v3/kv/compaction',
  'Lease/LeaseGrant': '/v3/lease/grant',
  'Lease/LeaseRevoke': '/v3/lease/revoke',
  'Lease/LeaseTimeToLive': '/v3/lease/timetolive',
  'Cluster/MemberList': '/v3/cluster/member/list',
  'Cluster/MemberAdd': '/v3/cluster/member/add',
  'Maintenance/Alarm': '/v3/maintenance/alarm',
  'Maintenance/Status': '/v3/maintenance/status',
  'Maintenance/Defragment': '/v3/maintenance/defragment',
  'Maintenance/Hash': '/v3/maintenance/hash',
  'Maintenance/Snapshot': '/v3/maintenance/snapshot',
  'Auth/Authenticate': '/v3/auth/authenticate',
  'Auth/AuthStatus': '/v3/auth/status',
  'Auth/AuthEnable': '/v3/auth/enable',
  'Auth/AuthDisable': '/v3/auth/disable',
  'Auth/UserAdd': '/v3/auth/user/add',
  'Auth/UserGrantRole': '/v3/auth/user/grant',
  'Auth/RoleAdd': '/v3/auth/role/add',
  'Auth/RoleGrantPermission': '/v3/auth/role/grant',
};

/** Fields of the requests the tables send that are bytes (base64 in JSON, Buffers for grpc-js). */
const BYTES_FIELDS = new Set(['key', 'range_end', 'value']);

/** The gateway's JSON form of a request into what grpc-js's proto loader takes (bytes as Buffers), recursively. */
function toGrpcRequest(value: unknown, field = ''): unknown {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string' && BYTES_FIELDS.has(field)) return Buffer.from(value, 'base64');
  if (Array.isArray(value)) return value.map((v) => toGrpcRequest(v, field));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toGrpcRequest(v, k)]));
  }
  return value;
}

type Unary = (request: object, metadata: Metadata, callback: (err: ServiceError | null, response: Record<string, unknown>) => void) => void;

const failed = (code: number, message: string): Answer => `error ${code} ${message}`;

const watchAnswer = (response: Record<string, unknown>): Answer =>
  response['canceled'] === true
    ? `watch canceled ${String(response['cancel_reason'])}`
    : response['created'] === true
      ? 'watch created'
      : `watch ${JSON.stringify(response)}`;

/** etcd's gRPC API with the token as `token` metadata, as clientv3 sends it. */
export class GrpcCaller implements EtcdCaller {
  readonly name = 'gRPC';
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly endpoint: string,
    private readonly token?: string,
    private readonly shared?: GrpcCaller,
  ) {}

  private client(service: EtcdServiceName | 'Watch'): Client {
    if (this.shared !== undefined) return this.shared.client(service);
    let client = this.clients.get(service);
    if (client === undefined) {
      const Ctor = makeGenericClientConstructor(etcdServiceDefinition(service), service);
      client = new Ctor(this.endpoint, credentials.createInsecure());
      this.clients.set(service, client);
    }
    return client;
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('token', this.token);
    return metadata;
  }

  /** A unary call's response message (proto field names, int64 as strings); rejects with the ServiceError. */
  call(service: EtcdServiceName, method: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const client = this.client(service) as unknown as Record<string, Unary>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, toGrpcRequest(request) as object, this.metadata(), (err, response) => (err !== null ? reject(err) : resolve(response)));
    });
  }

  async unary(service: EtcdServiceName, method: string, request: Record<string, unknown>): Promise<Answer> {
    try {
      await this.call(service, method, request);
      return 'ok';
    } catch (err) {
      const e = err as ServiceError;
      return failed(e.code, e.details);
    }
  }

  watch(create: Record<string, unknown>): Promise<Answer> {
    const client = this.client('Watch') as unknown as { Watch(metadata: Metadata): ClientDuplexStream<object, Record<string, unknown>> };
    const stream = client.Watch(this.metadata());
    return new Promise((resolve) => {
      const done = (answer: Answer): void => {
        stream.removeAllListeners('data');
        stream.on('error', () => undefined);
        stream.cancel();
        resolve(answer);
      };
      stream.on('data', (response: Record<string, unknown>) => done(watchAnswer(response)));
      stream.on('error', (err: ServiceError) => done(failed(err.code, err.details)));
      stream.write(toGrpcRequest({ create_request: create }) as object);
    });
  }

  snapshot(): Promise<Answer> {
    const client = this.client('Maintenance') as unknown as { Snapshot(request: object, metadata: Metadata): ClientReadableStream<Record<string, unknown>> };
    const stream = client.Snapshot({}, this.metadata());
    return new Promise((resolve) => {
      stream.on('data', () => undefined);
      stream.on('end', () => resolve('ok'));
      stream.on('error', (err: ServiceError) => resolve(failed(err.code, err.details)));
    });
  }

  withToken(token: string | undefined): GrpcCaller {
    return new GrpcCaller(this.endpoint, token, this.shared ?? this);
  }

  async authenticate(name: string, password: string): Promise<string> {
    const response = await this.call('Auth', 'Authenticate', { name, password });
    return String(response['token']);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** etcd's JSON gateway with the token in the Authorization header (etcd's gateway takes its value as the token). */
export class GatewayCaller implements EtcdCaller {
  readonly name = 'gateway';

  constructor(
    private readonly endpoint: string,
    private readonly token?: string,
  ) {}

  private async post(path: string, body: unknown): Promise<Response> {
    return fetch(`http://${this.endpoint}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(this.token === undefined ? {} : { Authorization: this.token }) },
      body: JSON.stringify(body),
    });
  }

  async unary(service: EtcdServiceName, method: string, request: Record<string, unknown>): Promise<Answer> {
    const response = await this.post(GATEWAY_PATHS[`${service}/${method}`]!, request);
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status === 200 && body['error'] === undefined) return 'ok';
    return failed(Number(body['code']), String(body['error']));
  }

  /** The first line of a streamed answer: a result, or the stream's error (in the body, or as the whole answer). */
  private async firstLine(response: Response): Promise<Record<string, unknown>> {
    const reader = response.body!.getReader();
    let text = '';
    try {
      for (;;) {
        const newline = text.indexOf('\n');
        if (newline >= 0) return JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
        const { value, done } = await reader.read();
        if (done) return JSON.parse(text) as Record<string, unknown>;
        text += Buffer.from(value).toString();
      }
    } finally {
      await reader.cancel();
    }
  }

  private static streamFailure(line: Record<string, unknown>): Answer | undefined {
    const error = line['error'];
    if (error === undefined) return undefined;
    // A stream's error object once results went out, else the whole answer is etcd's error body.
    if (typeof error === 'object' && error !== null) {
      const e = error as Record<string, unknown>;
      return failed(Number(e['grpc_code']), String(e['message']));
    }
    return failed(Number(line['code']), String(error));
  }

  async watch(create: Record<string, unknown>): Promise<Answer> {
    const line = await this.firstLine(await this.post('/v3/watch', { create_request: create }));
    return GatewayCaller.streamFailure(line) ?? watchAnswer(line['result'] as Record<string, unknown>);
  }

  async snapshot(): Promise<Answer> {
    const response = await this.post('/v3/maintenance/snapshot', {});
    const text = await response.text();
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const failure = GatewayCaller.streamFailure(JSON.parse(line) as Record<string, unknown>);
      if (failure !== undefined) return failure;
    }
    return 'ok';
  }

  withToken(token: string | undefined): EtcdCaller {
    return new GatewayCaller(this.endpoint, token);
  }

  async authenticate(name: string, password: string): Promise<string> {
    const response = await this.post('/v3/auth/authenticate', { name, password });
    const body = (await response.json()) as Record<string, unknown>;
    if (typeof body['token'] !== 'string') throw new Error(`authenticate ${name}: ${JSON.stringify(body)}`);
    return body['token'];
  }

  close(): void {}
}
