import type { Lessor } from './lessor.js';

/** The leader request kind a follower renews leases with (see RaftNode.askLeader). */
export const LEASE_RENEW_REQUEST = 'lease-renew';

/** Request: 8 bytes per lease ID (big-endian, unsigned). */
export function encodeLeaseIds(ids: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ids.length * 8);
  const view = new DataView(out.buffer);
  ids.forEach((id, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, id)));
  return out;
}

export function decodeLeaseIds(payload: Uint8Array): bigint[] {
  if (payload.length % 8 !== 0) throw new Error(`lease renewal request of ${payload.length} bytes is not a list of 8-byte IDs`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return Array.from({ length: payload.length / 8 }, (_, i) => BigInt.asIntN(64, view.getBigUint64(i * 8)));
}

/** Answer: 8 bytes per requested lease (TTLs go up to 9e9 s), in request order: the TTL renewed to, 0 for a lease that is gone. */
export function decodeRenewedTtls(ids: readonly bigint[], payload: Uint8Array): Map<bigint, number> {
  if (payload.length !== ids.length * 8) throw new Error(`lease renewal answer of ${payload.length} bytes for ${ids.length} leases`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return new Map(ids.map((id, i) => [id, Number(view.getBigUint64(i * 8))]));
}

/** The leader's side: renew each lease in its lessor, as a keep-alive sent to the leader would. */
export async function renewOnLeader(lessor: Lessor, payload: Uint8Array): Promise<Uint8Array> {
  if (!lessor.isPrimary) throw new Error("the leader's lessor is not primary yet");
  const ids = decodeLeaseIds(payload);
  const ttls = await Promise.all(ids.map((id) => lessor.renew(id)));
  const out = new Uint8Array(ids.length * 8);
  const view = new DataView(out.buffer);
  ttls.forEach((ttl, i) => view.setBigUint64(i * 8, BigInt(ttl ?? 0)));
  return out;
}

/** The leader request a member asks a lease's remaining TTL with (etcd 3.6 forwards LeaseTimeToLive to the leader). */
export const LEASE_TTL_REQUEST = 'lease-ttl';

/**
 * The leader's side: whole seconds the lease has left on the leader's clock, 8 bytes (big-endian,
 * signed), -1 for a lease the leader does not know.
 */
export function remainingOnLeader(lessor: Lessor, payload: Uint8Array): Uint8Array {
  if (!lessor.isPrimary) throw new Error("the leader's lessor is not primary yet");
  const [id] = decodeLeaseIds(payload);
  if (id === undefined) throw new Error('lease time-to-live request without a lease ID');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(lessor.remainingSeconds(id) ?? -1));
  return out;
}

export function decodeRemaining(payload: Uint8Array): number {
  if (payload.length !== 8) throw new Error(`lease time-to-live answer of ${payload.length} bytes`);
  return Number(new DataView(payload.buffer, payload.byteOffset, 8).getBigInt64(0));
}
