import type { AlarmAction, AlarmType } from '../api/services.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../api/kv-types.js';
import type { LeaseCommand } from '../lease/lease-command.js';
import type { AuthInfo } from '../api/auth-types.js';
import type { AuthCommand } from '../auth/auth-command.js';

/** A write that goes through Raft and is applied on every member in log order. */
type KvCommandBody =
  | { readonly op: 'put'; readonly request: PutRequest }
  | { readonly op: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly op: 'txn'; readonly request: TxnRequest }
  | { readonly op: 'compact'; readonly request: CompactionRequest }
  | { readonly op: 'alarm'; readonly action: AlarmAction; readonly memberId: string; readonly alarm: AlarmType }
  /** A member's name and client URLs, published by the member itself after each start (as etcd does). */
  | { readonly op: 'publishMember'; readonly memberId: string; readonly name: string; readonly clientURLs: readonly string[] }
  | LeaseCommand
  | AuthCommand;

/**
 * A command, and who asked for it when auth was enabled at the proposer (etcd's RequestHeader
 * username and auth revision): applied, it is checked against the auth store of that moment.
 * Absent for internal proposals (lease expiry, alarms, member attributes) and with auth disabled.
 */
export type KvCommand = KvCommandBody & { readonly caller?: AuthInfo };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Bytes become {"$b": base64} and bigints {"$n": decimal}, so the command survives JSON exactly. */
function toJson(value: unknown): Json {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value as Json;
}

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return Buffer.from(JSON.stringify(toJson(command)), 'utf8');
}

export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const tagged = value as { $b?: unknown; $n?: unknown };
      if (typeof tagged.$b === 'string') return new Uint8Array(Buffer.from(tagged.$b, 'base64'));
      if (typeof tagged.$n === 'string') return BigInt(tagged.$n);
    }
    return value;
  }) as KvCommand;
}
