import { keepAliveLeaseService, WireKeepAliveStream, type CairnServices, type WireLeaseIdRequest } from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';
import type { StreamServerCall } from './server/server-calls.js';

/**
 * Requests sent while the caller is being authorized wait in the call's read buffer: 'data' is
 * listened to only once the lease service is known.
 */
async function serveKeepAlives(services: CairnServices, call: StreamServerCall): Promise<void> {
  const sink = new GrpcStreamSink(call);
  let stream: WireKeepAliveStream;
  try {
    stream = new WireKeepAliveStream(await keepAliveLeaseService(services, servicesFor(services, call)), sink);
  } catch (err) {
    sink.fail(err);
    return;
  }
  if (sink.done) return;
  call.on('data', (request: WireLeaseIdRequest) => stream.request(request));
  call.on('end', () => stream.halfClose());
}

/** etcd's LeaseKeepAlive stream (the Lease service's unary methods come from the core's table). */
export function keepAliveHandler(services: CairnServices): (call: StreamServerCall) => void {
  return (call) => {
    // A client gone mid-stream leaves nothing to clean up: answers still in flight are dropped.
    call.on('error', () => undefined);
    void serveKeepAlives(services, call);
  };
}
