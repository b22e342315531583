import type { ServerWritableStream } from '@grpc/grpc-js';
import { serveObserve, type CairnServices, type WireLeaderRequest, type WireLeaderResponse } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { servicesFor } from './caller-credentials.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';

type ObserveCall = ServerWritableStream<WireLeaderRequest, WireLeaderResponse>;

/** etcd's Election Observe stream (the service's unary methods come from the core's table). */
export function observeHandler(services: CairnServices): (call: ObserveCall) => void {
  return (call) => {
    void serveObserve(servicesFor(services, call), call.request, new GrpcStreamSink(call), signalOf(call));
  };
}
