import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { WireWatchStream, type WatchService, type WatchSession, type WireWatchRequest, type WireWatchResponse } from '@cairn/core';
import { etcdServiceDefinition } from './etcd-proto.js';
import { toGrpcStatus } from './grpc-status.js';
import { withWatchResponseEncoder } from './watch-encoding.js';
import { batchBufferedResponses } from './response-batching.js';

type WatchCall = ServerDuplexStream<WireWatchRequest, WireWatchResponse>;

/** etcd's rpctypes.MetadataRequireLeaderKey. */
const REQUIRE_LEADER_KEY = 'hasleader';

/**
 * One Watch RPC as a sink of the core's WireWatchStream: writes go to the call (the first of a
 * turn batches what follows it into one socket write), a refused write waits for 'drain'. A client
 * that half-closes still gets events, as from etcd; the stream ends when the call does.
 */
function watchCall(call: WatchCall, session: WatchSession, maxRequestBytes: number): void {
  let batching = false;
  const stream = new WireWatchStream(
    session,
    {
      write: (response) => {
        if (call.cancelled) return true;
        const first = !batching;
        batching = true;
        return first ? call.write(response, () => batchBufferedResponses(call)) : call.write(response);
      },
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
      watchCall(call, session, maxRequestBytes);
    },
  };
}
