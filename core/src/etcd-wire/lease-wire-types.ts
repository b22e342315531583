import type { WireInt64, WireResponseHeader } from './wire-types.js';

/* etcd's Lease messages as plain objects (see wire-types.ts; field names as in rpc.proto). */

export interface WireLeaseGrantRequest {
  TTL: string;
  ID: string;
}

export interface WireLeaseGrantResponse {
  header: WireResponseHeader;
  ID: WireInt64;
  TTL: WireInt64;
  error: string;
}

export interface WireLeaseIdRequest {
  ID: string;
}

export interface WireLeaseTimeToLiveRequest {
  ID: string;
  keys: boolean;
}

export interface WireLeaseKeepAliveResponse {
  header: WireResponseHeader;
  ID: WireInt64;
  TTL: WireInt64;
}

export interface WireLeaseTimeToLiveResponse {
  header: WireResponseHeader;
  ID: WireInt64;
  TTL: WireInt64;
  grantedTTL: WireInt64;
  keys: Uint8Array[];
}

export interface WireLeaseLeasesResponse {
  header: WireResponseHeader;
  leases: { ID: WireInt64 }[];
}
