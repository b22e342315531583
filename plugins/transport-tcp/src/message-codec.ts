import { EntryType, MessageType, type ConfState, type Entry, type Message, type SnapshotMeta } from '@cairn/core';
import { WireError } from './wire-error.js';
import type { WireReader } from './wire-reader.js';
import { wireSize, type WireWriter } from './wire-writer.js';

/*
 * A Raft Message on the wire, every field in a fixed order:
 *   u8 type, string from, string to, u64 term, u64 logTerm, u64 index, u64 commit,
 *   u8 reject, u64 rejectHint, bytes context,
 *   u32 entry count, each: u64 index, u64 term, u8 type, bytes data,
 *   u8 has snapshot, then: u64 index, u64 term, u16 voters + strings, u16 learners + strings.
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

/** Exact encoded size of `message`. */
export function messageSize(message: Message): number {
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

export function writeMessage(writer: WireWriter, message: Message): void {
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

export function readMessage(reader: WireReader): Message {
  const type = readEnum<MessageType>(MessageType, reader.u8('message type'), 'message type');
  const from = reader.string('from');
  const to = reader.string('to');
  const term = reader.u64('term');
  const logTerm = reader.u64('logTerm');
  const index = reader.u64('index');
  const commit = reader.u64('commit');
  const rejectByte = reader.u8('reject');
  if (rejectByte > 1) throw new WireError(`reject flag ${rejectByte}`);
  const rejectHint = reader.u64('rejectHint');
  const context = reader.bytes('context');
  const count = reader.u32('entry count');
  // Each entry takes at least its fixed part plus a length: a count that cannot fit is garbage, not a reason to allocate.
  if (count * (ENTRY_FIXED_BYTES + wireSize.u32) > reader.remaining) throw new WireError(`entry count ${count} exceeds the frame`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const entryIndex = reader.u64('entry index');
    const entryTerm = reader.u64('entry term');
    const entryType = readEnum<EntryType>(EntryType, reader.u8('entry type'), 'entry type');
    entries.push({ index: entryIndex, term: entryTerm, type: entryType, data: reader.bytes('entry data') });
  }
  const hasSnapshot = reader.u8('snapshot flag');
  if (hasSnapshot > 1) throw new WireError(`snapshot flag ${hasSnapshot}`);
  let snapshot: SnapshotMeta | undefined;
  if (hasSnapshot === 1) {
    const snapIndex = reader.u64('snapshot index');
    const snapTerm = reader.u64('snapshot term');
    const confState: ConfState = { voters: readMembers(reader, 'voters'), learners: readMembers(reader, 'learners') };
    snapshot = { index: snapIndex, term: snapTerm, confState };
  }
  const message: Message = { type, from, to, term, logTerm, index, entries, commit, reject: rejectByte === 1, rejectHint, context };
  return snapshot === undefined ? message : { ...message, snapshot };
}
