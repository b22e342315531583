import type { ServerWritableStream } from '@grpc/grpc-js';
import { headerToWire, maintenanceAuthError, snapshotMessages, type CairnServices, type WireEmpty, type WireSnapshotResponse } from '@cairn/core';
import { servicesFor } from './caller-credentials.js';
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

/** The snapshot, for its caller as authorized when the stream opens (etcd lets only root take one). */
async function streamSnapshot(services: CairnServices, call: SnapshotCall): Promise<void> {
  try {
    // A bad token on a Maintenance RPC gets etcd's untranslated "auth: invalid auth token".
    const maintenance = (await servicesFor(services, call).catch((err: unknown) => Promise.reject(maintenanceAuthError(err)))).maintenance;
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
export function snapshotHandler(services: CairnServices): (call: SnapshotCall) => void {
  return (call) => {
    void streamSnapshot(services, call);
  };
}
