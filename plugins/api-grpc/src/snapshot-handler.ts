import type { ServerWritableStream } from '@grpc/grpc-js';
import { headerToWire, snapshotMessages, type MaintenanceService, type WireEmpty, type WireSnapshotResponse } from '@cairn/core';
import { toGrpcStatus } from './grpc-status.js';

type SnapshotCall = ServerWritableStream<WireEmpty, WireSnapshotResponse>;

/** Resolves when the stream can take more, or when the client went away. */
function writable(call: SnapshotCall): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

async function streamSnapshot(maintenance: MaintenanceService, call: SnapshotCall): Promise<void> {
  try {
    const header = headerToWire((await maintenance.status()).header);
    // Leaving the loop early (client gone) returns the generator, which closes the service's stream.
    for await (const message of snapshotMessages(maintenance.snapshot(), header)) {
      if (call.cancelled) return;
      if (!call.write(message)) await writable(call);
    }
    if (!call.cancelled) call.end();
  } catch (err) {
    if (!call.cancelled) call.emit('error', toGrpcStatus(err));
  }
}

/** etcd's Maintenance Snapshot stream (the service's unary methods come from the core's table). */
export function snapshotHandler(maintenance: MaintenanceService): (call: SnapshotCall) => void {
  return (call) => {
    void streamSnapshot(maintenance, call);
  };
}
