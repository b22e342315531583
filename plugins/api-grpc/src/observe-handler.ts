import type { ServerWritableStream } from '@grpc/grpc-js';
import { EtcdError, GrpcCode, leaderResponseToWire, type CairnServices, type WireLeaderRequest, type WireLeaderResponse } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { servicesFor } from './caller-credentials.js';
import { toGrpcStatus } from './grpc-status.js';

type ObserveCall = ServerWritableStream<WireLeaderRequest, WireLeaderResponse>;

/** Observe, for its caller as authorized when the stream opens: each proclamation as it happens, written only as fast as the client reads. */
async function streamObserve(services: CairnServices, call: ObserveCall): Promise<void> {
  const signal = signalOf(call);
  try {
    const election = (await servicesFor(services, call)).election;
    if (election === undefined) throw new EtcdError(GrpcCode.Unimplemented, 'The server does not implement the method /v3electionpb.Election/Observe');
    for await (const r of election.observe(call.request.name, signal)) {
      if (call.cancelled) return;
      if (!call.write(leaderResponseToWire(r))) {
        await new Promise<void>((resolve) => {
          call.once('drain', resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    }
    if (!call.cancelled) call.end();
  } catch (err) {
    if (!call.cancelled) call.emit('error', toGrpcStatus(err));
  }
}

/** etcd's Election Observe stream (the service's unary methods come from the core's table). */
export function observeHandler(services: CairnServices): (call: ObserveCall) => void {
  return (call) => {
    void streamObserve(services, call);
  };
}
