import { etcdMethodDefinition, etcdServicePath, type EtcdMethodDefinition, type EtcdServiceName, type WireMessage } from '@cairn/client';

/** A request as the server receives it: a fresh message decoded from the client's, and its encoded size. */
export interface ReceivedRequest {
  readonly message: WireMessage;
  readonly encodedSize: number;
}

/**
 * One RPC of etcd's protos. Every message crosses the channel as protobuf bytes, encoded and
 * decoded by the definitions the gRPC channel uses: the server sees exactly what a socket would
 * have delivered (unknown fields dropped, defaults filled in, the measured size for
 * --max-request-bytes), and neither side holds a buffer the other can change.
 */
export class WireMethod {
  constructor(
    /** `etcdserverpb.KV/Range`: the name the core's unary table uses. */
    readonly name: string,
    private readonly definition: EtcdMethodDefinition,
  ) {}

  /** `/etcdserverpb.KV/Range`, as gRPC names it in errors. */
  get path(): string {
    return `/${this.name}`;
  }

  get requestStream(): boolean {
    return this.definition.requestStream;
  }

  get responseStream(): boolean {
    return this.definition.responseStream;
  }

  /** The client's request through the wire encoding; throws when it cannot be encoded (as a gRPC client's serializer does). */
  receive(request: WireMessage): ReceivedRequest {
    const bytes = this.definition.requestSerialize(request);
    return { message: this.definition.requestDeserialize(bytes), encodedSize: bytes.length };
  }

  /** The server's response through the wire encoding. */
  send(response: WireMessage): WireMessage {
    return this.definition.responseDeserialize(this.definition.responseSerialize(response));
  }
}

/** etcd's RPCs by service and method (the client's definitions of core's .proto files), each wrapped once. */
export class EtcdWireCodec {
  private readonly methods = new Map<string, WireMethod | undefined>();

  /** The method, or undefined when the protos have no such RPC. */
  method(service: EtcdServiceName, method: string): WireMethod | undefined {
    const key = `${service}/${method}`;
    if (this.methods.has(key)) return this.methods.get(key);
    const definition = etcdMethodDefinition(service, method);
    const found = definition === undefined ? undefined : new WireMethod(`${etcdServicePath(service)}/${method}`, definition);
    this.methods.set(key, found);
    return found;
  }

  /** The gRPC path of a method the protos may not have, for UNIMPLEMENTED's text. */
  static pathOf(service: EtcdServiceName, method: string): string {
    return `/${etcdServicePath(service)}/${method}`;
  }
}
