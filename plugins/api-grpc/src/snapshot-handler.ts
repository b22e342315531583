import type { ServerWritableStream } from '@grpc/grpc-js';
import { serveSnapshot, type CairnServices, type WireEmpty, type WireSnapshotResponse } from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';

type SnapshotCall = ServerWritableStream<WireEmpty, WireSnapshotResponse>;

/** etcd's Maintenance Snapshot stream, for its caller as authorized when the stream opens (etcd lets only root take one). */
export function snapshotHandler(services: CairnServices): (call: SnapshotCall) => void {
  return (call) => {
    void serveSnapshot(servicesFor(services, call), new GrpcStreamSink(call));
  };
}
