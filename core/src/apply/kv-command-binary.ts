import type { AuthInfo } from '../api/auth-types.js';
import type { Permission } from '../api/auth-types.js';
import { ProtoReader } from '../etcd-wire/proto-reader.js';
import { ProtoWriter } from '../etcd-wire/proto-writer.js';
import {
  readCompactionRequest,
  readDeleteRangeRequest,
  readPutRequest,
  readTxnRequest,
  writeCompactionRequest,
  writeDeleteRangeRequest,
  writePutRequest,
  writeTxnRequest,
} from '../etcd-wire/kv-request-proto.js';
import type { LeaseCheckpoint } from '../lease/lease-command.js';
import type { KvCommand } from './kv-command-type.js';

/*
 * Committed commands in binary: one format byte, then a protobuf message laid out like etcd's
 * InternalRaftRequest: the caller in field 100 (etcd's RequestHeader: username 2, auth_revision 3)
 * and the request in the field of its kind. Put, DeleteRange, Txn and Compaction carry etcd's own
 * request messages (rpc.proto); the other kinds use etcd's field number where etcd has that request,
 * with a body of Cairn's own (below). Every field a command holds is written, defaults included,
 * so a command decodes to exactly the object that was encoded.
 */

/** The first byte of a binary command, version 1 (a JSON command begins with `{`, 0x7b). */
export const BINARY_COMMAND_V1 = 0x01;

const CALLER_FIELD = 100;
const EMPTY: Uint8Array = new Uint8Array(0);

type Op = KvCommand['op'];
type CommandOf<O extends Op> = Extract<KvCommand, { op: O }>;
type Body<O extends Op> = Omit<CommandOf<O>, 'op' | 'caller'>;

interface OpCodec<O extends Op> {
  readonly field: number;
  write(w: ProtoWriter, command: CommandOf<O>): void;
  read(r: ProtoReader): Body<O>;
}

/** Reads a body's fields: `on` handles a field number and says whether it knew it. */
function fields(r: ProtoReader, on: (field: number) => boolean): void {
  for (let field = r.next(); field !== 0; field = r.next()) if (!on(field)) r.skip();
}

function writePermission(w: ProtoWriter, p: Permission): void {
  w.number(1, p.permType).bytes(2, p.key).bytes(3, p.rangeEnd);
}

function readPermission(r: ProtoReader): Permission {
  const out: { permType: number; key: Uint8Array; rangeEnd: Uint8Array } = { permType: 0, key: EMPTY, rangeEnd: EMPTY };
  fields(r, (f) => {
    if (f === 1) out.permType = r.number();
    else if (f === 2) out.key = r.bytesField();
    else if (f === 3) out.rangeEnd = r.bytesField();
    else return false;
    return true;
  });
  return out;
}

/** A body of string fields only, by field number. */
function stringsCodec<O extends Op>(field: number, names: readonly string[]): OpCodec<O> {
  return {
    field,
    write: (w, command) => names.forEach((name, i) => w.string(i + 1, (command as unknown as Record<string, string>)[name]!)),
    read: (r) => {
      const out: Record<string, string> = Object.fromEntries(names.map((name) => [name, '']));
      fields(r, (f) => {
        const name = names[f - 1];
        if (name === undefined) return false;
        out[name] = r.string();
        return true;
      });
      return out as unknown as Body<O>;
    },
  };
}

const CODECS: { readonly [O in Op]: OpCodec<O> } = {
  put: { field: 4, write: (w, c) => writePutRequest(w, c.request), read: (r) => ({ request: readPutRequest(r) }) },
  deleteRange: { field: 5, write: (w, c) => writeDeleteRangeRequest(w, c.request), read: (r) => ({ request: readDeleteRangeRequest(r) }) },
  txn: { field: 6, write: (w, c) => writeTxnRequest(w, c.request), read: (r) => ({ request: readTxnRequest(r) }) },
  compact: { field: 7, write: (w, c) => writeCompactionRequest(w, c.request), read: (r) => ({ request: readCompactionRequest(r) }) },
  // etcd's LeaseGrantRequest: TTL 1, ID 2.
  leaseGrant: {
    field: 8,
    write: (w, c) => w.number(1, c.ttl).int64(2, c.id),
    read: (r) => {
      const out = { ttl: 0, id: 0n };
      fields(r, (f) => {
        if (f === 1) out.ttl = r.number();
        else if (f === 2) out.id = r.int64();
        else return false;
        return true;
      });
      return out;
    },
  },
  leaseRevoke: {
    field: 9,
    write: (w, c) => w.int64(1, c.id),
    read: (r) => {
      let id = 0n;
      fields(r, (f) => f === 1 && ((id = r.int64()), true));
      return { id };
    },
  },
  // Cairn's: action 1, member ID 2 (as the string members use), alarm 3.
  alarm: {
    field: 10,
    write: (w, c) => w.number(1, c.action).string(2, c.memberId).number(3, c.alarm),
    read: (r) => {
      const out = { action: 0, memberId: '', alarm: 0 };
      fields(r, (f) => {
        if (f === 1) out.action = r.number();
        else if (f === 2) out.memberId = r.string();
        else if (f === 3) out.alarm = r.number();
        else return false;
        return true;
      });
      return out;
    },
  },
  // etcd's LeaseCheckpointRequest (checkpoints 1: ID 1, then the remaining time in milliseconds 2).
  leaseCheckpoint: {
    field: 11,
    write: (w, c) => {
      for (const checkpoint of c.checkpoints) w.message(1, (m) => m.int64(1, checkpoint.id).number(2, checkpoint.remainingMs));
    },
    read: (r) => {
      const checkpoints: LeaseCheckpoint[] = [];
      fields(r, (f) => {
        if (f !== 1) return false;
        const m = r.message();
        const checkpoint = { id: 0n, remainingMs: 0 };
        fields(m, (g) => {
          if (g === 1) checkpoint.id = m.int64();
          else if (g === 2) checkpoint.remainingMs = m.number();
          else return false;
          return true;
        });
        checkpoints.push(checkpoint);
        return true;
      });
      return { checkpoints };
    },
  },
  // Cairn's: the renewed lease IDs, each in field 1.
  leaseRenew: {
    field: 12,
    write: (w, c) => {
      for (const id of c.ids) w.int64(1, id);
    },
    read: (r) => {
      const ids: bigint[] = [];
      fields(r, (f) => f === 1 && (ids.push(r.int64()), true));
      return { ids };
    },
  },
  // Cairn's: member ID 1, name 2, client URLs 3.
  publishMember: {
    field: 13,
    write: (w, c) => {
      w.string(1, c.memberId).string(2, c.name);
      for (const url of c.clientURLs) w.string(3, url);
    },
    read: (r) => {
      const out = { memberId: '', name: '', clientURLs: [] as string[] };
      fields(r, (f) => {
        if (f === 1) out.memberId = r.string();
        else if (f === 2) out.name = r.string();
        else if (f === 3) out.clientURLs.push(r.string());
        else return false;
        return true;
      });
      return out;
    },
  },
  authEnable: { field: 1000, write: () => undefined, read: () => ({}) },
  authDisable: { field: 1011, write: () => undefined, read: () => ({}) },
  // Cairn's: name 1, token prefix 2, the auth revision the password was checked at 3.
  authenticate: {
    field: 1012,
    write: (w, c) => w.string(1, c.name).string(2, c.prefix).number(3, c.checkedRevision),
    read: (r) => {
      const out = { name: '', prefix: '', checkedRevision: 0 };
      fields(r, (f) => {
        if (f === 1) out.name = r.string();
        else if (f === 2) out.prefix = r.string();
        else if (f === 3) out.checkedRevision = r.number();
        else return false;
        return true;
      });
      return out;
    },
  },
  // Cairn's: name 1, password hash 2, no-password flag 3.
  userAdd: {
    field: 1100,
    write: (w, c) => w.string(1, c.name).bytes(2, c.password).bool(3, c.noPassword),
    read: (r) => {
      const out: { name: string; password: Uint8Array; noPassword: boolean } = { name: '', password: EMPTY, noPassword: false };
      fields(r, (f) => {
        if (f === 1) out.name = r.string();
        else if (f === 2) out.password = r.bytesField();
        else if (f === 3) out.noPassword = r.bool();
        else return false;
        return true;
      });
      return out;
    },
  },
  userDelete: stringsCodec(1101, ['name']),
  userChangePassword: {
    field: 1103,
    write: (w, c) => w.string(1, c.name).bytes(2, c.password),
    read: (r) => {
      const out: { name: string; password: Uint8Array } = { name: '', password: EMPTY };
      fields(r, (f) => {
        if (f === 1) out.name = r.string();
        else if (f === 2) out.password = r.bytesField();
        else return false;
        return true;
      });
      return out;
    },
  },
  userGrantRole: stringsCodec(1104, ['user', 'role']),
  userRevokeRole: stringsCodec(1105, ['name', 'role']),
  roleAdd: stringsCodec(1200, ['name']),
  roleDelete: stringsCodec(1201, ['role']),
  roleGrantPermission: {
    field: 1203,
    write: (w, c) => w.string(1, c.name).message(2, (m) => writePermission(m, c.perm)),
    read: (r) => {
      const out = { name: '', perm: { permType: 0, key: EMPTY, rangeEnd: EMPTY } as Permission };
      fields(r, (f) => {
        if (f === 1) out.name = r.string();
        else if (f === 2) out.perm = readPermission(r.message());
        else return false;
        return true;
      });
      return out;
    },
  },
  roleRevokePermission: {
    field: 1204,
    write: (w, c) => w.string(1, c.role).bytes(2, c.key).bytes(3, c.rangeEnd),
    read: (r) => {
      const out: { role: string; key: Uint8Array; rangeEnd: Uint8Array } = { role: '', key: EMPTY, rangeEnd: EMPTY };
      fields(r, (f) => {
        if (f === 1) out.role = r.string();
        else if (f === 2) out.key = r.bytesField();
        else if (f === 3) out.rangeEnd = r.bytesField();
        else return false;
        return true;
      });
      return out;
    },
  },
};

const OP_OF_FIELD: ReadonlyMap<number, Op> = new Map(Object.entries(CODECS).map(([op, codec]) => [codec.field, op as Op]));

/** Bytes the command takes beyond its keys and values, about: the writer's first buffer fits a put. */
function sizeHint(command: KvCommand): number {
  const caller = command.caller === undefined ? 0 : command.caller.username.length * 3 + 16;
  if (command.op === 'put') return 32 + caller + command.request.key.byteLength + command.request.value.byteLength;
  return 128 + caller;
}

export function encodeBinaryKvCommand(command: KvCommand): Uint8Array {
  const codec = CODECS[command.op] as OpCodec<Op> | undefined;
  if (codec === undefined) throw new Error(`no encoding for command '${command.op}'`);
  const w = new ProtoWriter(sizeHint(command)).byte(BINARY_COMMAND_V1);
  const caller = command.caller;
  if (caller !== undefined) w.message(CALLER_FIELD, (m) => m.string(2, caller.username).number(3, caller.revision));
  w.message(codec.field, (m) => codec.write(m, command));
  return w.finish();
}

function readCaller(r: ProtoReader): AuthInfo {
  const out = { username: '', revision: 0 };
  fields(r, (f) => {
    if (f === 2) out.username = r.string();
    else if (f === 3) out.revision = r.number();
    else return false;
    return true;
  });
  return out;
}

export function decodeBinaryKvCommand(bytes: Uint8Array): KvCommand {
  if (bytes[0] !== BINARY_COMMAND_V1) throw new Error(`not a binary command (format byte ${bytes[0]})`);
  const r = new ProtoReader(bytes, 1);
  let caller: AuthInfo | undefined;
  let command: Record<string, unknown> | undefined;
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === CALLER_FIELD) {
      caller = readCaller(r.message());
      continue;
    }
    const op = OP_OF_FIELD.get(field);
    if (op === undefined) {
      r.skip();
      continue;
    }
    // The body's own object, completed in place (no copy per entry).
    command = (CODECS[op] as OpCodec<Op>).read(r.message()) as Record<string, unknown>;
    command.op = op;
  }
  if (command === undefined) throw new Error('a binary command with no request');
  if (caller !== undefined) command.caller = caller;
  return command as unknown as KvCommand;
}
