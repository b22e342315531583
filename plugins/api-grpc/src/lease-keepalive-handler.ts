import type { ServerDuplexStream } from '@grpc/grpc-js';
import { int64FromWire, leaseKeepAliveResponseToWire, type LeaseService, type WireLeaseIdRequest, type WireLeaseKeepAliveResponse } from '@cairn/core';
import { toGrpcStatus } from './grpc-status.js';

type KeepAliveCall = ServerDuplexStream<WireLeaseIdRequest, WireLeaseKeepAliveResponse>;

/**
 * The LeaseKeepAlive stream: each request renews one lease and is answered with its new TTL (0
 * for a lease that is gone, as etcd answers). Requests are served concurrently (a follower batches
 * them into one renewal entry), so answers may come in another order; each names its lease. An
 * error (no leader, timeout) ends the stream with etcd's status, and the client opens another.
 */
function serveKeepAlives(lease: LeaseService, call: KeepAliveCall): void {
  let inFlight = 0;
  let ended = false;
  let failed = false;
  const finish = (): void => {
    if (ended && inFlight === 0 && !failed && !call.cancelled) call.end();
  };
  call.on('data', (request: WireLeaseIdRequest) => {
    if (failed) return;
    inFlight++;
    lease.keepAlive(int64FromWire(request.ID)).then(
      (response) => {
        inFlight--;
        if (failed || call.cancelled) return;
        call.write(leaseKeepAliveResponseToWire(response));
        finish();
      },
      (err: unknown) => {
        inFlight--;
        if (failed || call.cancelled) return;
        failed = true;
        call.emit('error', toGrpcStatus(err));
      },
    );
  });
  call.on('end', () => {
    ended = true;
    finish();
  });
  // A client gone mid-stream leaves nothing to clean up: answers still in flight are dropped.
  call.on('error', () => undefined);
}

/** etcd's LeaseKeepAlive stream (the Lease service's unary methods come from the core's table). */
export function keepAliveHandler(lease: LeaseService): (call: KeepAliveCall) => void {
  return (call) => serveKeepAlives(lease, call);
}
