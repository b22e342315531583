import type { CairnServices, LeaseService } from '../api/services.js';
import { EtcdError, GrpcCode } from '../api/errors.js';
import { headerToWire } from './kv-codec.js';
import { int64FromWire, leaseKeepAliveResponseToWire } from './lease-codec.js';
import type { WireLeaseIdRequest } from './lease-wire-types.js';
import { maintenanceAuthError } from './maintenance-auth-error.js';
import { leaderResponseToWire } from './recipe-codec.js';
import type { WireLeaderRequest } from './recipe-wire-types.js';
import { snapshotMessages } from './snapshot-messages.js';
import type { EtcdWireMessage } from './unary-methods.js';

/**
 * Where a server stream's responses go, as each frontend provides it (a grpc-js call, an
 * in-process stream): the serving logic below is written once for all of them.
 */
export interface WireStreamSink {
  /** True once the stream ended, failed or the client went away: stop writing. */
  readonly done: boolean;
  /** Sends one response; false when the writer should wait for `writable()` before the next. */
  push(response: EtcdWireMessage): boolean;
  /** Resolves when the sink can take more, or once it is done. */
  writable(): Promise<void>;
  /** Ends the stream cleanly. */
  complete(): void;
  /** Ends the stream with the error as the frontend's status (etcd's code and text for an EtcdError). */
  fail(error: unknown): void;
}

/** Writes each message, waiting while the sink has a backlog; false if the sink was done first. */
async function pushAll(messages: AsyncIterable<EtcdWireMessage>, sink: WireStreamSink): Promise<boolean> {
  // Leaving the loop early returns the iterator, which closes the service's own stream.
  for await (const message of messages) {
    if (sink.done) return false;
    if (!sink.push(message)) await sink.writable();
  }
  return !sink.done;
}

async function* leadersOf(services: CairnServices, request: WireLeaderRequest, signal: AbortSignal): AsyncIterable<EtcdWireMessage> {
  if (services.election === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /v3electionpb.Election/Observe');
  for await (const leader of services.election.observe(request.name, signal)) yield leaderResponseToWire(leader);
}

/**
 * Election.Observe for a caller authorized when the stream opens (`authorized`): each
 * proclamation as it happens, written only as fast as the client takes them. `signal` (the client
 * gone) stops the service's iteration.
 */
export async function serveObserve(authorized: Promise<CairnServices>, request: WireLeaderRequest, sink: WireStreamSink, signal: AbortSignal): Promise<void> {
  try {
    if (await pushAll(leadersOf(await authorized, request, signal), sink)) sink.complete();
  } catch (err) {
    sink.fail(err);
  }
}

/** Maintenance.Snapshot for a caller authorized when the stream opens: etcd's blobs, then its SHA-256 trailer. */
export async function serveSnapshot(authorized: Promise<CairnServices>, sink: WireStreamSink): Promise<void> {
  try {
    // A bad token on a Maintenance RPC gets etcd's untranslated "auth: invalid auth token".
    const maintenance = (await authorized.catch((err: unknown) => Promise.reject(maintenanceAuthError(err)))).maintenance;
    const header = headerToWire((await maintenance.status()).header);
    if (await pushAll(snapshotMessages(maintenance.snapshot(), header), sink)) sink.complete();
  } catch (err) {
    sink.fail(err);
  }
}

/**
 * The lease service a LeaseKeepAlive stream renews through. The caller is authorized once, when
 * the stream opens, but as in etcd a refused token still renews (the lease ID is what renews it),
 * so a client whose token lapsed keeps its leases.
 */
export async function keepAliveLeaseService(services: CairnServices, authorized: Promise<CairnServices>): Promise<LeaseService> {
  let lease: LeaseService | undefined;
  try {
    lease = (await authorized).lease;
  } catch (err) {
    if (!(err instanceof EtcdError)) throw err;
    lease = services.lease;
  }
  if (lease === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /etcdserverpb.Lease/LeaseKeepAlive');
  return lease;
}

/**
 * The LeaseKeepAlive stream: each request renews one lease and is answered with its new TTL (0
 * for a lease that is gone, as etcd answers). Requests are served concurrently (a follower
 * batches them into one renewal entry), so answers may come in another order; each names its
 * lease. An error (no leader, timeout) ends the stream with etcd's status and the client opens
 * another; after the client's half-close it ends once the answers in flight are sent.
 */
export class WireKeepAliveStream {
  private inFlight = 0;
  private halfClosed = false;

  constructor(
    private readonly lease: LeaseService,
    private readonly sink: WireStreamSink,
  ) {}

  request(request: WireLeaseIdRequest): void {
    if (this.sink.done) return;
    this.inFlight++;
    this.lease.keepAlive(int64FromWire(request.ID)).then(
      (response) => {
        this.inFlight--;
        if (this.sink.done) return;
        this.sink.push(leaseKeepAliveResponseToWire(response));
        this.completeIfDone();
      },
      (err: unknown) => {
        this.inFlight--;
        this.sink.fail(err);
      },
    );
  }

  /** The client will send no more requests. */
  halfClose(): void {
    this.halfClosed = true;
    this.completeIfDone();
  }

  private completeIfDone(): void {
    if (this.halfClosed && this.inFlight === 0 && !this.sink.done) this.sink.complete();
  }
}
