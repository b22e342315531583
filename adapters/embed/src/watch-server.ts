import {
  EtcdError,
  GrpcCode,
  RefusedWatchSession,
  servicesAs,
  WireWatchStream,
  type CairnServices,
  type CallerCredentials,
  type WatchSession,
  type WireWatchRequest,
} from '@cairn/core';
import type { InProcessDuplex } from './in-process-duplex.js';

/**
 * The stream's session, for its caller as authorized when the stream opens; a caller whose token
 * is refused gets a session that refuses each create with the token's error (as etcd does, and
 * the gRPC frontend).
 */
function openSession(services: CairnServices, credentials: CallerCredentials): Promise<WatchSession> {
  return servicesAs(services, credentials).then(
    (view) => {
      if (view.watch === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /etcdserverpb.Watch/Watch');
      return view.watch.openStream({});
    },
    (err: unknown) => {
      if (!(err instanceof EtcdError) || services.watch === undefined) throw err;
      return new RefusedWatchSession(services.watch.openStream({}), err);
    },
  );
}

/**
 * One Watch stream on the core's WireWatchStream, as the gRPC frontend serves it: requests
 * answered in order, each watch pumped only as fast as the client takes responses, fragments cut
 * at --max-request-bytes. A client that half-closes still gets events; the stream ends when the
 * client cancels, the channel closes or the member stops.
 */
export async function serveWatch(services: CairnServices, stream: InProcessDuplex, credentials: CallerCredentials, maxRequestBytes: number): Promise<void> {
  let session: WatchSession;
  try {
    session = await openSession(services, credentials);
  } catch (err) {
    stream.fail(err);
    return;
  }
  if (stream.done) {
    session.close();
    return;
  }
  const wire = new WireWatchStream(
    session,
    {
      write: (response) => stream.push(response),
      writable: () => stream.writable(),
      fail: (error) => stream.fail(error),
    },
    maxRequestBytes,
  );
  stream.onClose(() => wire.close());
  stream.read((request) => wire.request(request as WireWatchRequest));
}
