import { GrpcCode, type EtcdError } from '../api/errors.js';
import type { WatchCreated, WatchResponse, WatchSession } from '../api/watch-types.js';

/** An error as grpc-go prints it ("rpc error: code = PermissionDenied desc = ..."): etcd's watch cancel reasons. */
export function grpcErrorText(error: EtcdError): string {
  return `rpc error: code = ${GrpcCode[error.code] ?? 'Unknown'} desc = ${error.message}`;
}

/** etcd's clientv3.InvalidWatchID: the id of a watch that was never made. */
const INVALID_WATCH_ID = -1;

/**
 * A Watch stream whose caller could not be authorized (a bad or expired token). etcd opens the
 * stream anyway and refuses each watch create with the token's error as the cancel reason, in
 * grpc-go's text ("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"): that
 * is what clientv3 matches to fetch a new token and create the watch again on a fresh stream.
 */
export class RefusedWatchSession implements WatchSession {
  private readonly cancelReason: string;

  /** `session` is a plain session of the member: it answers progress requests and gives headers. */
  constructor(
    private readonly session: WatchSession,
    error: EtcdError,
  ) {
    this.cancelReason = grpcErrorText(error);
  }

  create(): WatchCreated {
    const response: WatchResponse = {
      header: this.session.progress().header,
      watchId: INVALID_WATCH_ID,
      created: true,
      canceled: true,
      compactRevision: 0,
      cancelReason: this.cancelReason,
      events: [],
    };
    return { response };
  }

  cancel(watchId: number): WatchResponse | undefined {
    return this.session.cancel(watchId);
  }

  progress(): WatchResponse {
    return this.session.progress();
  }

  onAbort(listener: (error: Error) => void): void {
    this.session.onAbort(listener);
  }

  close(): void {
    this.session.close();
  }
}
