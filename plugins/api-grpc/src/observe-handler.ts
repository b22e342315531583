import type { ServerWritableStream } from '@grpc/grpc-js';
import { leaderResponseToWire, type ElectionService, type WireLeaderRequest, type WireLeaderResponse } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { toGrpcStatus } from './grpc-status.js';

type ObserveCall = ServerWritableStream<WireLeaderRequest, WireLeaderResponse>;

/** Observe: each proclamation as it happens, written only as fast as the client reads. */
async function streamObserve(election: ElectionService, call: ObserveCall): Promise<void> {
  const signal = signalOf(call);
  try {
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
export function observeHandler(election: ElectionService): (call: ObserveCall) => void {
  return (call) => {
    void streamObserve(election, call);
  };
}
