import type { LeaseGrantResponse, LeaseKeepAliveResponse, LeaseLeasesResponse, LeaseTimeToLiveResponse } from '../api/lease-types.js';
import { headerToWire } from './kv-codec.js';
import type { WireLeaseGrantResponse, WireLeaseKeepAliveResponse, WireLeaseLeasesResponse, WireLeaseTimeToLiveResponse } from './lease-wire-types.js';

/** An int64 from the wire (a decimal string, possibly negative) as a bigint; absent is 0. */
export const int64FromWire = (wire: string | undefined): bigint => (wire === undefined || wire === '' ? 0n : BigInt(wire));

/** A lease ID for the wire: exact as a decimal string. */
export const leaseIdToWire = (id: bigint): string => BigInt.asIntN(64, id).toString();

export function leaseGrantResponseToWire(granted: LeaseGrantResponse): WireLeaseGrantResponse {
  return { header: headerToWire(granted.header), ID: leaseIdToWire(granted.id), TTL: granted.ttl, error: '' };
}

export function leaseKeepAliveResponseToWire(renewed: LeaseKeepAliveResponse): WireLeaseKeepAliveResponse {
  return { header: headerToWire(renewed.header), ID: leaseIdToWire(renewed.id), TTL: renewed.ttl };
}

export function leaseTimeToLiveResponseToWire(answer: LeaseTimeToLiveResponse): WireLeaseTimeToLiveResponse {
  return {
    header: headerToWire(answer.header),
    ID: leaseIdToWire(answer.id),
    TTL: answer.ttl,
    grantedTTL: answer.grantedTtl,
    keys: [...answer.keys],
  };
}

export function leaseLeasesResponseToWire(listed: LeaseLeasesResponse): WireLeaseLeasesResponse {
  return { header: headerToWire(listed.header), leases: listed.leases.map((id) => ({ ID: leaseIdToWire(id) })) };
}
