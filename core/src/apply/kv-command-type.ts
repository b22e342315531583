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
