import { serveSnapshot, type CairnServices } from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';
import type { StreamServerCall } from './server/server-calls.js';

/** etcd's Maintenance Snapshot stream, for its caller as authorized when the stream opens (etcd lets only root take one). */
export function snapshotHandler(services: CairnServices): (call: StreamServerCall) => void {
  return (call) => {
    void serveSnapshot(servicesFor(services, call), new GrpcStreamSink(call));
  };
}
