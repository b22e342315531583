import { EntryType, MessageType, type ConfState, type Entry, type Message, type SnapshotMeta } from './raft-types.js';
import { WireError } from './wire-error.js';
import { WireReader } from './wire-reader.js';
import { wireSize, WireWriter } from './wire-writer.js';

/*
 * A Raft Message on the peer wire, every field in a fixed order, big-endian:
 *   u8 type, string from, string to, u64 term, u64 logTerm, u64 index, u64 commit,
 *   u8 reject, u64 rejectHint, bytes context,
 *   u32 entry count, each: u64 index, u64 term, u8 type, bytes data,
 *   u8 has snapshot, then: u64 index, u64 term, u16 voters + strings, u16 learners + strings.
 * string is a u16 length and UTF-8; bytes is a u32 length and the bytes. This is the payload of
 * @cairn/transport-tcp's Message frames (its protocol version names it): change it only with that.
 */

const FIXED_BYTES = wireSize.u8 + 4 * wireSize.u64 + wireSize.u8 + wireSize.u64 + wireSize.u32 + wireSize.u8;
const ENTRY_FIXED_BYTES = 2 * wireSize.u64 + wireSize.u8;

function membersSize(ids: readonly string[]): number {
  let size = wireSize.u16;
  for (const id of ids) size += wireSize.string(id);
  return size;
}

function snapshotSize(meta: SnapshotMeta): number {
  return 2 * wireSize.u64 + membersSize(meta.confState.voters) + membersSize(meta.confState.learners);
}

/** The exact encoded size of `message`. */
export function raftMessageSize(message: Message): number {
  let size = FIXED_BYTES + wireSize.string(message.from) + wireSize.string(message.to) + wireSize.bytes(message.context);
  for (const entry of message.entries) size += ENTRY_FIXED_BYTES + wireSize.bytes(entry.data);
  if (message.snapshot !== undefined) size += snapshotSize(message.snapshot);
  return size;
}

function writeMembers(writer: WireWriter, ids: readonly string[]): void {
  if (ids.length > 0xffff) throw new RangeError('more than 65535 members');
  writer.u16(ids.length);
  for (const id of ids) writer.string(id);
}

/** Writes `message` at the writer's position: exactly `raftMessageSize(message)` bytes. */
export function writeRaftMessage(writer: WireWriter, message: Message): void {
  writer.u8(message.type);
  writer.string(message.from);
  writer.string(message.to);
  writer.u64(message.term);
  writer.u64(message.logTerm);
  writer.u64(message.index);
  writer.u64(message.commit);
  writer.u8(message.reject ? 1 : 0);
  writer.u64(message.rejectHint);
  writer.bytes(message.context);
  writer.u32(message.entries.length);
  for (const entry of message.entries) {
    writer.u64(entry.index);
    writer.u64(entry.term);
    writer.u8(entry.type);
    writer.bytes(entry.data);
  }
  const snapshot = message.snapshot;
  writer.u8(snapshot === undefined ? 0 : 1);
  if (snapshot !== undefined) {
    writer.u64(snapshot.index);
    writer.u64(snapshot.term);
    writeMembers(writer, snapshot.confState.voters);
    writeMembers(writer, snapshot.confState.learners);
  }
}

/** `message` in a buffer of its own. */
export function encodeRaftMessage(message: Message): Buffer {
  const buffer = Buffer.allocUnsafe(raftMessageSize(message));
  const writer = new WireWriter(buffer);
  writeRaftMessage(writer, message);
  if (writer.position !== buffer.byteLength) throw new Error(`message encoding wrote ${writer.position} of ${buffer.byteLength} bytes`);
  return buffer;
}

function readMembers(reader: WireReader, what: string): string[] {
  const count = reader.u16(what);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.string(what));
  return ids;
}

function readEnum<T extends number>(values: Record<number, string>, raw: number, what: string): T {
  if (values[raw] === undefined) throw new WireError(`unknown ${what} ${raw}`);
  return raw as T;
}

function readFlag(reader: WireReader, what: string): boolean {
  const flag = reader.u8(what);
  if (flag > 1) throw new WireError(`${what} ${flag}`);
  return flag === 1;
}

/** Reads one message at the reader's position; a WireError for anything that is not one. */
export function readRaftMessage(reader: WireReader): Message {
  const type = readEnum<MessageType>(MessageType, reader.u8('message type'), 'message type');
  const from = reader.string('from');
  const to = reader.string('to');
  const term = reader.u64('term');
  const logTerm = reader.u64('logTerm');
  const index = reader.u64('index');
  const commit = reader.u64('commit');
  const reject = readFlag(reader, 'reject flag');
  const rejectHint = reader.u64('rejectHint');
  const context = reader.bytes('context');
  const count = reader.u32('entry count');
  // Each entry takes at least its fixed part plus a length: a count that cannot fit is garbage, not a reason to allocate.
  if (count * (ENTRY_FIXED_BYTES + wireSize.u32) > reader.remaining) throw new WireError(`entry count ${count} exceeds the bytes left`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const entryIndex = reader.u64('entry index');
    const entryTerm = reader.u64('entry term');
    const entryType = readEnum<EntryType>(EntryType, reader.u8('entry type'), 'entry type');
    entries.push({ index: entryIndex, term: entryTerm, type: entryType, data: reader.bytes('entry data') });
  }
  const message: Message = { type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, context };
  if (!readFlag(reader, 'snapshot flag')) return message;
  const snapIndex = reader.u64('snapshot index');
  const snapTerm = reader.u64('snapshot term');
  const confState: ConfState = { voters: readMembers(reader, 'voters'), learners: readMembers(reader, 'learners') };
  return { ...message, snapshot: { index: snapIndex, term: snapTerm, confState } };
}

/** Decodes bytes that hold exactly one message. */
export function decodeRaftMessage(data: Uint8Array): Message {
  const reader = new WireReader(data);
  const message = readRaftMessage(reader);
  reader.end('message');
  return message;
}
