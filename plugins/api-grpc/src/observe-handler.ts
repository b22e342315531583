import { serveObserve, type CairnServices, type WireLeaderRequest } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { servicesFor } from './caller-credentials.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';
import type { StreamServerCall } from './server/server-calls.js';

/** etcd's Election Observe stream (the service's unary methods come from the core's table). */
export function observeHandler(services: CairnServices): (call: StreamServerCall) => void {
  return (call) => {
    void serveObserve(servicesFor(services, call), call.request as WireLeaderRequest, new GrpcStreamSink(call), signalOf(call));
  };
}
