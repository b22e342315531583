import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MaintenanceService } from '@cairn/core';
import { toGrpcStatus } from './grpc-status.js';
import { headerToWire } from './kv-codec.js';
import { memberIdFromWire, memberIdToWire } from './member-id.js';
import { snapshotMessages } from './snapshot-messages.js';
import { unaryHandler } from './unary-handler.js';
import type {
  WireAlarmRequest,
  WireAlarmResponse,
  WireEmpty,
  WireHashKvRequest,
  WireHashKvResponse,
  WireHashResponse,
  WireHeaderOnlyResponse,
  WireMoveLeaderRequest,
  WireSnapshotResponse,
  WireStatusResponse,
} from './wire-types.js';

/** Resolves when the stream can take more, or when the client went away. */
function writable(call: ServerWritableStream<WireEmpty, WireSnapshotResponse>): Promise<void> {
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

async function streamSnapshot(maintenance: MaintenanceService, call: ServerWritableStream<WireEmpty, WireSnapshotResponse>): Promise<void> {
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

/** etcd's Maintenance service over the core's MaintenanceService. Downgrade (etcd 3.5) is not served. */
export function maintenanceHandlers(maintenance: MaintenanceService): UntypedServiceImplementation {
  return {
    Status: unaryHandler(async (): Promise<WireStatusResponse> => {
      const status = await maintenance.status();
      return {
        header: headerToWire(status.header),
        version: status.version,
        dbSize: status.dbSize,
        leader: memberIdToWire(status.leader),
        raftIndex: status.raftIndex,
        raftTerm: status.raftTerm,
        raftAppliedIndex: status.raftAppliedIndex,
        errors: [...status.errors],
        dbSizeInUse: status.dbSizeInUse,
        isLearner: status.isLearner,
      };
    }),
    // etcd's Hash covers the whole backend and is "for testing only"; here it is HashKV at the current revision.
    Hash: unaryHandler(async (): Promise<WireHashResponse> => {
      const hashed = await maintenance.hashKv(0);
      return { header: headerToWire(hashed.header), hash: hashed.hash };
    }),
    HashKV: unaryHandler(async (request: WireHashKvRequest): Promise<WireHashKvResponse> => {
      const hashed = await maintenance.hashKv(Number(request.revision));
      const revision = Number(request.revision);
      return {
        header: headerToWire(hashed.header),
        hash: hashed.hash,
        compact_revision: hashed.compactRevision,
        hash_revision: revision > 0 ? revision : hashed.header.revision,
      };
    }),
    Defragment: unaryHandler(async (): Promise<WireHeaderOnlyResponse> => ({ header: headerToWire((await maintenance.defragment()).header) })),
    Alarm: unaryHandler(async (request: WireAlarmRequest): Promise<WireAlarmResponse> => {
      const response = await maintenance.alarm(request.action, memberIdFromWire(request.memberID), request.alarm);
      return {
        header: headerToWire(response.header),
        alarms: response.alarms.map((a) => ({ memberID: memberIdToWire(a.memberId), alarm: a.alarm })),
      };
    }),
    MoveLeader: unaryHandler(async (request: WireMoveLeaderRequest): Promise<WireHeaderOnlyResponse> => ({
      header: headerToWire((await maintenance.moveLeader(memberIdFromWire(request.targetID))).header),
    })),
    Snapshot: (call: ServerWritableStream<WireEmpty, WireSnapshotResponse>): void => {
      void streamSnapshot(maintenance, call);
    },
  };
}
