import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ElectionService, LeaderKey } from '@cairn/core';
import { signalOf } from './call-signal.js';
import { toGrpcStatus } from './grpc-status.js';
import { headerToWire, keyValueToWire } from './kv-codec.js';
import { unaryHandler } from './unary-handler.js';
import type { WireKeyValue, WireResponseHeader } from './wire-types.js';

interface WireLeaderKey {
  name: Buffer;
  key: Buffer;
  rev: string;
  lease: string;
}
interface WireCampaignRequest {
  name: Buffer;
  lease: string;
  value: Buffer;
}
interface WireCampaignResponse {
  header: WireResponseHeader;
  leader: WireLeaderKey;
}
interface WireProclaimRequest {
  leader: WireLeaderKey | null;
  value: Buffer;
}
interface WireLeaderRequest {
  name: Buffer;
}
interface WireLeaderResponse {
  header: WireResponseHeader;
  kv: WireKeyValue;
}
interface WireResignRequest {
  leader: WireLeaderKey | null;
}
interface WireHeaderOnly {
  header: WireResponseHeader;
}

function leaderFromWire(wire: WireLeaderKey | null | undefined): LeaderKey | undefined {
  if (wire === null || wire === undefined) return undefined;
  return { name: wire.name, key: wire.key, rev: Number(wire.rev), lease: BigInt(wire.lease) };
}

function leaderToWire(leader: LeaderKey): WireLeaderKey {
  return { name: Buffer.from(leader.name), key: Buffer.from(leader.key), rev: String(leader.rev), lease: leader.lease.toString() };
}

/** Observe: each proclamation as it happens, written only as fast as the client reads. */
async function streamObserve(election: ElectionService, call: ServerWritableStream<WireLeaderRequest, WireLeaderResponse>): Promise<void> {
  const signal = signalOf(call);
  try {
    for await (const r of election.observe(call.request.name, signal)) {
      if (call.cancelled) return;
      if (!call.write({ header: headerToWire(r.header), kv: keyValueToWire(r.kv) })) {
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

/** etcd's Election service (v3electionpb.Election) over the core's ElectionService. */
export function electionHandlers(election: ElectionService): UntypedServiceImplementation {
  return {
    Campaign: unaryHandler(async (request: WireCampaignRequest, call): Promise<WireCampaignResponse> => {
      const won = await election.campaign(request.name, BigInt(request.lease), request.value, signalOf(call));
      return { header: headerToWire(won.header), leader: leaderToWire(won.leader) };
    }),
    Proclaim: unaryHandler(async (request: WireProclaimRequest): Promise<WireHeaderOnly> => ({
      header: headerToWire((await election.proclaim(leaderFromWire(request.leader), request.value)).header),
    })),
    Leader: unaryHandler(async (request: WireLeaderRequest): Promise<WireLeaderResponse> => {
      const r = await election.leader(request.name);
      return { header: headerToWire(r.header), kv: keyValueToWire(r.kv) };
    }),
    Observe: (call: ServerWritableStream<WireLeaderRequest, WireLeaderResponse>): void => {
      void streamObserve(election, call);
    },
    Resign: unaryHandler(async (request: WireResignRequest): Promise<WireHeaderOnly> => ({
      header: headerToWire((await election.resign(leaderFromWire(request.leader))).header),
    })),
  };
}
