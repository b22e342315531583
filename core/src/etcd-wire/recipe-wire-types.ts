import type { WireKeyValue, WireResponseHeader } from './wire-types.js';

/* etcd's Lock (v3lockpb) and Election (v3electionpb) messages as plain objects (see wire-types.ts). */

export interface WireLockRequest {
  name: Buffer;
  lease: string;
}
export interface WireLockResponse {
  header: WireResponseHeader;
  key: Buffer;
}
export interface WireUnlockRequest {
  key: Buffer;
}

export interface WireLeaderKey {
  name: Buffer;
  key: Buffer;
  rev: string;
  lease: string;
}
export interface WireCampaignRequest {
  name: Buffer;
  lease: string;
  value: Buffer;
}
export interface WireCampaignResponse {
  header: WireResponseHeader;
  leader: WireLeaderKey;
}
export interface WireProclaimRequest {
  leader: WireLeaderKey | null;
  value: Buffer;
}
export interface WireLeaderRequest {
  name: Buffer;
}
export interface WireLeaderResponse {
  header: WireResponseHeader;
  kv: WireKeyValue;
}
export interface WireResignRequest {
  leader: WireLeaderKey | null;
}
