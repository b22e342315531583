import type { KeyValue, ResponseHeader } from '../api/kv-types.js';
import type { LeaderKey } from '../api/services.js';
import { headerToWire, keyValueToWire } from './kv-codec.js';
import { int64FromWire } from './lease-codec.js';
import type { WireLeaderKey, WireLeaderResponse } from './recipe-wire-types.js';

/** A LeaderKey from the wire; absent (null) stays absent, and the service answers etcd's error. */
export function leaderKeyFromWire(wire: WireLeaderKey | null | undefined): LeaderKey | undefined {
  if (wire === null || wire === undefined) return undefined;
  return { name: wire.name, key: wire.key, rev: Number(wire.rev), lease: int64FromWire(wire.lease) };
}

export function leaderKeyToWire(leader: LeaderKey): WireLeaderKey {
  return { name: Buffer.from(leader.name), key: Buffer.from(leader.key), rev: String(leader.rev), lease: leader.lease.toString() };
}

/** Leader's answer, and each message of Observe's stream. */
export function leaderResponseToWire(response: { readonly header: ResponseHeader; readonly kv: KeyValue }): WireLeaderResponse {
  return { header: headerToWire(response.header), kv: keyValueToWire(response.kv) };
}
