import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  EtcdError,
  GrpcCode,
  int64FromWire,
  leaseKeepAliveResponseToWire,
  type CairnServices,
  type LeaseService,
  type WireLeaseIdRequest,
  type WireLeaseKeepAliveResponse,
} from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
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
}

/**
 * The caller is authorized once, when the stream opens. etcd checks no token on a keep-alive (the
 * lease ID is what renews it), so a bad or expired token still renews, as there: clients whose
 * token lapsed keep their leases. Requests sent meanwhile wait in the call's read buffer: 'data'
 * is listened to only once the lease service is known.
 */
async function authorizeKeepAlives(services: CairnServices, call: KeepAliveCall): Promise<void> {
  let lease: LeaseService | undefined;
  try {
    try {
      lease = (await servicesFor(services, call)).lease;
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      lease = services.lease;
    }
    if (lease === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /etcdserverpb.Lease/LeaseKeepAlive');
  } catch (err) {
    if (!call.cancelled) call.emit('error', toGrpcStatus(err));
    return;
  }
  if (!call.cancelled) serveKeepAlives(lease, call);
}

/** etcd's LeaseKeepAlive stream (the Lease service's unary methods come from the core's table). */
export function keepAliveHandler(services: CairnServices): (call: KeepAliveCall) => void {
  return (call) => {
    // A client gone mid-stream leaves nothing to clean up: answers still in flight are dropped.
    call.on('error', () => undefined);
    void authorizeKeepAlives(services, call);
  };
}
