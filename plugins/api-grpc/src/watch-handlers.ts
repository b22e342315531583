import type { ServiceDefinition } from '@grpc/proto-loader';
import {
  EtcdError,
  GrpcCode,
  RefusedWatchSession,
  WireWatchStream,
  type CairnServices,
  type WatchSession,
  type WatchStreamOptions,
  type WireWatchRequest,
  type WireWatchResponse,
} from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
import { etcdServiceDefinition } from './etcd-proto.js';
import { toGrpcStatus } from './grpc-status.js';
import { withWatchResponseEncoder } from './watch-encoding.js';
import type { ServiceImplementation } from './server/grpc-http2-server.js';
import type { StreamServerCall } from './server/server-calls.js';

type WatchCall = StreamServerCall;

/** etcd's rpctypes.MetadataRequireLeaderKey. */
const REQUIRE_LEADER_KEY = 'hasleader';

/**
 * One Watch RPC as a sink of the core's WireWatchStream: writes go to the call (those of one turn
 * leave in one HTTP/2 write), a refused write waits for 'drain'. A client
 * that half-closes still gets events, as from etcd; the stream ends when the call does.
 */
function watchCall(call: WatchCall, session: WatchSession, maxRequestBytes: number): void {
  const stream = new WireWatchStream(
    session,
    {
      write: (response: WireWatchResponse) => (call.cancelled ? true : call.write(response)),
      writable: () =>
        new Promise<void>((resolve) => {
          const ready = (): void => {
            for (const event of ['drain', 'cancelled', 'close']) call.off(event, ready);
            resolve();
          };
          for (const event of ['drain', 'cancelled', 'close']) call.on(event, ready);
        }),
      fail: (error) => {
        if (!call.cancelled) call.emit('error', toGrpcStatus(error));
      },
    },
    maxRequestBytes,
  );
  call.on('data', (request: WireWatchRequest) => stream.request(request));
  const finish = (): void => stream.close();
  call.on('cancelled', finish);
  call.on('error', finish);
  call.on('close', finish);
}

/** etcd's Watch service definition, its responses encoded so that one event sent to many watchers is encoded once. */
export function watchServiceDefinition(): ServiceDefinition {
  return withWatchResponseEncoder(etcdServiceDefinition('Watch'));
}

/**
 * The stream's session, for its caller as authorized when the stream opens: each create is then
 * checked against the caller's read permission by the view's session, as etcd checks it at create.
 */
async function openSession(services: CairnServices, call: WatchCall, options: WatchStreamOptions): Promise<WatchSession> {
  let view: CairnServices;
  try {
    view = await servicesFor(services, call);
  } catch (err) {
    if (!(err instanceof EtcdError) || services.watch === undefined) throw err;
    return new RefusedWatchSession(services.watch.openStream(options), err);
  }
  if (view.watch === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /etcdserverpb.Watch/Watch');
  return view.watch.openStream(options);
}

/**
 * Requests that arrive while the caller is authorized wait in the call's read buffer: 'data' is
 * listened to only once the session exists, and they are then taken in order.
 */
async function serveWatch(services: CairnServices, call: WatchCall, maxRequestBytes: number): Promise<void> {
  let session: WatchSession;
  try {
    // etcd clients send "hasleader: true" to have a stream refused or ended while the member has no leader.
    const requireLeader = call.metadata.get(REQUIRE_LEADER_KEY).some((v) => v.toString() === 'true');
    session = await openSession(services, call, { requireLeader });
  } catch (err) {
    if (!call.cancelled) call.emit('error', toGrpcStatus(err));
    return;
  }
  if (call.cancelled) {
    session.close();
    return;
  }
  watchCall(call, session, maxRequestBytes);
}

/** etcd's Watch service over the services' watches; fragments are cut at --max-request-bytes, as etcd cuts them. */
export function watchHandlers(services: CairnServices, maxRequestBytes: number): ServiceImplementation {
  return {
    Watch: (call: WatchCall): void => {
      void serveWatch(services, call, maxRequestBytes);
    },
  };
}
