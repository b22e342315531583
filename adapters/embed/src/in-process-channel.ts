import {
  etcdUnaryMethods,
  GrpcCode,
  maxReceiveBytes,
  receivedMessageTooLarge,
  serveSnapshot,
  servicesAs,
  type CairnServices,
  type CallerCredentials,
  type EtcdUnaryMethods,
  type WireLeaderRequest,
} from '@cairn/core';
import {
  ChannelError,
  type ChannelCallOptions,
  type ChannelDuplex,
  type ChannelStream,
  type EtcdChannel,
  type EtcdServiceName,
  type WireMessage,
} from '@cairn/client';
import { CallScope } from './call-scope.js';
import { channelClosed, serializationFailure, toChannelError, unimplemented } from './channel-errors.js';
import { InProcessDuplex } from './in-process-duplex.js';
import { InProcessStream } from './in-process-stream.js';
import { serveKeepAlive } from './keep-alive-server.js';
import { serveObserve } from './observe-server.js';
import { serveWatch } from './watch-server.js';
import { EtcdWireCodec, type ReceivedRequest, type WireMethod } from './wire-codec.js';

export interface InProcessChannelOptions {
  /** etcd's --max-request-bytes of the member (writes above it: "etcdserver: request is too large"). */
  readonly maxRequestBytes: number;
  /** What `target` says (default `in-process`). */
  readonly target?: string;
}

/** The caller as a gRPC frontend reads it from the call's metadata: the token, and no certificate in-process. */
function credentialsOf(options: ChannelCallOptions | undefined): CallerCredentials {
  return options?.token === undefined ? {} : { token: options.token };
}

/**
 * The client's channel contract served by a member's services in this process, with no socket:
 * the unary RPCs through the core's etcd-wire table (the one the gRPC frontend registers), the
 * streams (Watch, LeaseKeepAlive, Election.Observe, Maintenance.Snapshot) as the gRPC frontend
 * serves them. Every message is copied through etcd's protobuf encoding, so the same requests get
 * the same answers and errors (an EtcdError becomes a ChannelError with its gRPC code and etcd's
 * text), and neither side can change the other's memory.
 */
export class InProcessChannel implements EtcdChannel {
  readonly target: string;
  private readonly codec = new EtcdWireCodec();
  private readonly unaryMethods: EtcdUnaryMethods;
  private readonly maxReceive: number;
  private readonly streams = new Set<InProcessStream>();
  private closed = false;
  /** Why the channel closed, when not by its owner (the member halted). */
  private closedBecause: string | undefined;

  constructor(
    private readonly services: CairnServices,
    private readonly options: InProcessChannelOptions,
  ) {
    this.target = options.target ?? 'in-process';
    this.unaryMethods = etcdUnaryMethods(services, { maxRequestBytes: options.maxRequestBytes });
    this.maxReceive = maxReceiveBytes(options.maxRequestBytes);
  }

  async unary(service: EtcdServiceName, method: string, request: WireMessage, options?: ChannelCallOptions): Promise<WireMessage> {
    if (this.closed) throw channelClosed(this.closedBecause);
    const rpc = this.codec.method(service, method);
    const serve = rpc === undefined || rpc.requestStream || rpc.responseStream ? undefined : this.unaryMethods.get(rpc.name);
    if (rpc === undefined || serve === undefined) throw unimplemented(EtcdWireCodec.pathOf(service, method));
    let received: ReceivedRequest;
    try {
      received = rpc.receive(request);
    } catch (err) {
      throw serializationFailure(err);
    }
    const scope = new CallScope(options);
    try {
      if (received.encodedSize > this.maxReceive) throw receivedMessageTooLarge(received.encodedSize, this.maxReceive);
      const context = {
        encodedSize: received.encodedSize,
        signal: scope.signal,
        ...(options?.token === undefined ? {} : { authToken: options.token }),
      };
      const response = await Promise.race([serve(received.message, context), scope.ended]);
      return rpc.send(response);
    } catch (err) {
      // The client's own abort rejects with its reason, as the contract says; everything else is a status.
      if (options?.signal?.aborted === true && err === options.signal.reason) throw err;
      throw toChannelError(err);
    } finally {
      scope.finish();
    }
  }

  duplex(service: EtcdServiceName, method: string, options?: ChannelCallOptions): ChannelDuplex {
    const rpc = this.codec.method(service, method);
    const stream = new InProcessDuplex(rpc ?? this.placeholder());
    if (!this.open(stream, rpc, service, method, true, options)) return stream;
    const credentials = credentialsOf(options);
    if (rpc!.name === 'etcdserverpb.Watch/Watch') void serveWatch(this.services, stream, credentials, this.options.maxRequestBytes);
    else if (rpc!.name === 'etcdserverpb.Lease/LeaseKeepAlive') void serveKeepAlive(this.services, stream, credentials);
    else stream.fail(unimplemented(rpc!.path));
    return stream;
  }

  serverStream(service: EtcdServiceName, method: string, request: WireMessage, options?: ChannelCallOptions): ChannelStream {
    const rpc = this.codec.method(service, method);
    const stream = new InProcessStream(rpc ?? this.placeholder());
    if (!this.open(stream, rpc, service, method, false, options)) return stream;
    let received: WireMessage;
    try {
      received = rpc!.receive(request).message;
    } catch (err) {
      stream.fail(serializationFailure(err));
      return stream;
    }
    const credentials = credentialsOf(options);
    if (rpc!.name === 'v3electionpb.Election/Observe') void serveObserve(this.services, stream, received as WireLeaderRequest, credentials);
    else if (rpc!.name === 'etcdserverpb.Maintenance/Snapshot') void serveSnapshot(servicesAs(this.services, credentials), stream);
    else stream.fail(unimplemented(rpc!.path));
    return stream;
  }

  /**
   * Ends every open stream with UNAVAILABLE; later calls fail the same way, with `reason` in the
   * message when given (the member halted). Calls in flight finish.
   */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closedBecause = reason;
    for (const stream of [...this.streams]) stream.fail(channelClosed(reason));
    this.streams.clear();
  }

  /**
   * Registers a new stream and ties it to the call's signal and deadline; false (the stream
   * already failed) when the channel is closed, the method is not such a stream, or the call is over.
   */
  private open(
    stream: InProcessStream,
    rpc: WireMethod | undefined,
    service: EtcdServiceName,
    method: string,
    duplex: boolean,
    options: ChannelCallOptions | undefined,
  ): boolean {
    if (this.closed) {
      stream.fail(channelClosed(this.closedBecause));
      return false;
    }
    if (rpc === undefined || !rpc.responseStream || rpc.requestStream !== duplex) {
      stream.fail(unimplemented(EtcdWireCodec.pathOf(service, method)));
      return false;
    }
    const scope = new CallScope(options);
    // A deadline fails the stream with DEADLINE_EXCEEDED; the client's abort as grpc-js reports a cancel.
    scope.ended.catch((reason: unknown) => stream.fail(reason instanceof ChannelError ? reason : new ChannelError(GrpcCode.Canceled, 'Cancelled on client')));
    this.streams.add(stream);
    stream.onClose(() => {
      this.streams.delete(stream);
      scope.finish();
    });
    return !stream.done;
  }

  /** A codec-less stream for a method the protos lack: it only ever carries its failure. */
  private placeholder(): WireMethod {
    return this.codec.method('KV', 'Range')!;
  }
}
