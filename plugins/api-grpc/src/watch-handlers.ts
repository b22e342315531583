import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import type { StreamWatch, WatchService, WatchSession } from '@cairn/core';
import { etcdServiceDefinition } from './etcd-proto.js';
import { toGrpcStatus } from './grpc-status.js';
import { watchCreateRequestFromWire, watchResponseToWire, type WireWatchRequest, type WireWatchResponse } from './watch-codec.js';
import { withWatchResponseEncoder } from './watch-encoding.js';
import { fragmented } from './watch-fragments.js';
import { batchBufferedResponses } from './response-batching.js';

type WatchCall = ServerDuplexStream<WireWatchRequest, WireWatchResponse>;

/** etcd's rpctypes.MetadataRequireLeaderKey. */
const REQUIRE_LEADER_KEY = 'hasleader';

/**
 * One Watch RPC: requests are answered in order (created, canceled, progress), and each watch
 * has a pump that pulls its next response only when the stream can take more. A client that
 * reads nothing stops the pumps at the first write grpc-js refuses (until 'drain'), so the
 * member holds at most each watcher's bounded backlog for it and reads the rest from history.
 */
class WatchStreamHandler {
  private blocked: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  private done = false;
  private batching = false;

  constructor(
    private readonly call: WatchCall,
    private readonly session: WatchSession,
    private readonly maxRequestBytes: number,
  ) {}

  start(): void {
    const call = this.call;
    this.session.onAbort((error) => {
      if (this.done) return;
      this.done = true;
      this.unblock?.();
      if (!call.cancelled) call.emit('error', toGrpcStatus(error));
    });
    call.on('data', (request: WireWatchRequest) => this.request(request));
    // A client that half-closes still gets events, as from etcd; the stream ends when the call does.
    const finish = (): void => this.close();
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  }

  private request(request: WireWatchRequest): void {
    if (this.done) return;
    switch (request.request_union) {
      case 'create_request': {
        const created = this.session.create(watchCreateRequestFromWire(request.create_request!));
        this.write(watchResponseToWire(created.response));
        if (created.watch !== undefined) void this.pump(created.watch);
        return;
      }
      case 'cancel_request': {
        const canceled = this.session.cancel(Number(request.cancel_request!.watch_id));
        if (canceled !== undefined) this.write(watchResponseToWire(canceled));
        return;
      }
      case 'progress_request':
        this.write(watchResponseToWire(this.session.progress()));
        return;
      default:
        // etcd ignores a request with nothing set rather than end the stream.
        return;
    }
  }

  private async pump(watch: StreamWatch): Promise<void> {
    try {
      for (;;) {
        while (this.blocked !== undefined) await this.blocked;
        if (this.done) return;
        const response = await watch.next();
        if (response === undefined || this.done) return;
        // Written in the same turn as next() resolved: the session's progress answers rely on it.
        const wire = watchResponseToWire(response);
        for (const part of watch.fragment ? fragmented(wire, this.maxRequestBytes) : [wire]) this.write(part);
      }
    } catch (err) {
      if (!this.done) this.call.emit('error', toGrpcStatus(err));
      this.close();
    }
  }

  private write(response: WireWatchResponse): void {
    if (this.done || this.call.cancelled) return;
    const first = !this.batching;
    this.batching = true;
    const accepted = first ? this.call.write(response, () => batchBufferedResponses(this.call)) : this.call.write(response);
    if (!accepted && this.blocked === undefined) {
      this.blocked = new Promise<void>((resolve) => {
        const ready = (): void => {
          this.call.off('drain', ready);
          this.call.off('cancelled', ready);
          this.blocked = undefined;
          this.unblock = undefined;
          resolve();
        };
        this.unblock = ready;
        this.call.on('drain', ready);
        this.call.on('cancelled', ready);
      });
    }
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.session.close();
    this.unblock?.();
  }
}

/** etcd's Watch service definition, its responses encoded so that one event sent to many watchers is encoded once. */
export function watchServiceDefinition(): ServiceDefinition {
  return withWatchResponseEncoder(etcdServiceDefinition('Watch'));
}

/** etcd's Watch service over the core's WatchService; fragments are cut at --max-request-bytes, as etcd cuts them. */
export function watchHandlers(watch: WatchService, maxRequestBytes: number): UntypedServiceImplementation {
  return {
    Watch: (call: WatchCall): void => {
      let session: WatchSession;
      try {
        // etcd clients send "hasleader: true" to have a stream refused or ended while the member has no leader.
        const requireLeader = call.metadata.get(REQUIRE_LEADER_KEY).some((v) => v.toString() === 'true');
        session = watch.openStream({ requireLeader });
      } catch (err) {
        call.emit('error', toGrpcStatus(err));
        return;
      }
      new WatchStreamHandler(call, session, maxRequestBytes).start();
    },
  };
}
