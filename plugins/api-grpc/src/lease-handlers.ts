import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { LeaseService } from '@cairn/core';
import { toGrpcStatus } from './grpc-status.js';
import { headerToWire } from './kv-codec.js';
import type {
  WireLeaseGrantRequest,
  WireLeaseGrantResponse,
  WireLeaseIdRequest,
  WireLeaseKeepAliveResponse,
  WireLeaseLeasesResponse,
  WireLeaseTimeToLiveRequest,
  WireLeaseTimeToLiveResponse,
} from './lease-wire-types.js';
import { unaryHandler } from './unary-handler.js';
import type { WireHeaderOnlyResponse } from './wire-types.js';

/** An int64 from the wire (a decimal string, possibly negative) as a bigint; absent is 0. */
const int64 = (wire: string | undefined): bigint => (wire === undefined || wire === '' ? 0n : BigInt(wire));
/** A lease ID for the wire: exact as a decimal string. */
const idToWire = (id: bigint): string => BigInt.asIntN(64, id).toString();

/**
 * The LeaseKeepAlive stream: each request renews one lease and is answered with its new TTL (0
 * for a lease that is gone, as etcd answers). Requests are served concurrently (a follower batches
 * them into one renewal entry), so answers may come in another order; each names its lease. An
 * error (no leader, timeout) ends the stream with etcd's status, and the client opens another.
 */
function serveKeepAlives(lease: LeaseService, call: ServerDuplexStream<WireLeaseIdRequest, WireLeaseKeepAliveResponse>): void {
  let inFlight = 0;
  let ended = false;
  let failed = false;
  const finish = (): void => {
    if (ended && inFlight === 0 && !failed && !call.cancelled) call.end();
  };
  call.on('data', (request: WireLeaseIdRequest) => {
    if (failed) return;
    inFlight++;
    lease.keepAlive(int64(request.ID)).then(
      (response) => {
        inFlight--;
        if (failed || call.cancelled) return;
        call.write({ header: headerToWire(response.header), ID: idToWire(response.id), TTL: response.ttl });
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

/** etcd's Lease service over the core's LeaseService. */
export function leaseHandlers(lease: LeaseService): UntypedServiceImplementation {
  return {
    LeaseGrant: unaryHandler(async (request: WireLeaseGrantRequest): Promise<WireLeaseGrantResponse> => {
      const granted = await lease.grant(Number(request.TTL || '0'), int64(request.ID));
      return { header: headerToWire(granted.header), ID: idToWire(granted.id), TTL: granted.ttl, error: '' };
    }),
    LeaseRevoke: unaryHandler(async (request: WireLeaseIdRequest): Promise<WireHeaderOnlyResponse> => ({
      header: headerToWire((await lease.revoke(int64(request.ID))).header),
    })),
    LeaseKeepAlive: (call: ServerDuplexStream<WireLeaseIdRequest, WireLeaseKeepAliveResponse>): void => serveKeepAlives(lease, call),
    LeaseTimeToLive: unaryHandler(async (request: WireLeaseTimeToLiveRequest): Promise<WireLeaseTimeToLiveResponse> => {
      const answer = await lease.timeToLive(int64(request.ID), request.keys);
      return {
        header: headerToWire(answer.header),
        ID: idToWire(answer.id),
        TTL: answer.ttl,
        grantedTTL: answer.grantedTtl,
        keys: [...answer.keys],
      };
    }),
    LeaseLeases: unaryHandler(async (): Promise<WireLeaseLeasesResponse> => {
      const listed = await lease.leases();
      return { header: headerToWire(listed.header), leases: listed.leases.map((id) => ({ ID: idToWire(id) })) };
    }),
  };
}
