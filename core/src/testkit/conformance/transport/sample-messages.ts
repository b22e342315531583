import { message } from '../../../protocol/message.js';
import { EntryType, MessageType, type Message } from '../../../protocol/raft-types.js';

/** A message with every field at its empty value, then `fields`. */
export { message };

/** Bytes 0..255 repeated, then shifted by `salt`, so a swapped or truncated payload shows. */
export function patterned(length: number, salt: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i + salt * 7) & 0xff;
  return data;
}

/** Messages that between them set every field of Message to something other than its default. */
export function richMessages(from: string, to: string, voters: readonly string[], learners: readonly string[]): Message[] {
  return [
    message(MessageType.App, from, to, {
      term: 7,
      logTerm: 6,
      index: 2 ** 40 + 3,
      commit: 2 ** 40,
      reject: false,
      entries: [
        { index: 2 ** 40 + 4, term: 6, type: EntryType.Normal, data: patterned(300, 1) },
        { index: 2 ** 40 + 5, term: 7, type: EntryType.ConfChange, data: patterned(17, 2) },
        { index: 2 ** 40 + 6, term: 7, type: EntryType.Normal, data: new Uint8Array(0) },
      ],
    }),
    message(MessageType.AppResp, from, to, { term: Number.MAX_SAFE_INTEGER, index: 99, reject: true, rejectHint: 42 }),
    message(MessageType.ReadIndexResp, from, to, { term: 3, index: 12, context: patterned(256, 3) }),
    // Not Raft, but carried alike: a member's request to its leader outside the log, and the answer.
    message(MessageType.LeaderRequest, from, to, { term: 5, index: 77, context: patterned(40, 4) }),
    message(MessageType.LeaderResponse, from, to, { term: 5, index: 77, reject: true, context: patterned(9, 5) }),
    message(MessageType.Snap, from, to, {
      term: 9,
      index: 500,
      logTerm: 8,
      snapshot: { index: 500, term: 8, confState: { voters: [...voters], learners: [...learners] } },
    }),
  ];
}

/** One message carrying `bytes` of entries (a catching-up follower's append). */
export function largeAppend(from: string, to: string, bytes: number): Message {
  const entrySize = 64 * 1024;
  const entries = [];
  for (let i = 0; i * entrySize < bytes; i++) {
    entries.push({ index: 1000 + i, term: 4, type: EntryType.Normal, data: patterned(Math.min(entrySize, bytes - i * entrySize), i) });
  }
  return message(MessageType.App, from, to, { term: 4, logTerm: 4, index: 999, commit: 999, entries });
}

/** A comparable form: byte arrays as hex, whatever their class (Buffer or Uint8Array). */
export function comparable(m: Message): unknown {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return {
    type: m.type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: hex(m.context),
    entries: m.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: hex(e.data) })),
    snapshot:
      m.snapshot === undefined
        ? null
        : {
            index: m.snapshot.index,
            term: m.snapshot.term,
            voters: [...m.snapshot.confState.voters],
            learners: [...m.snapshot.confState.learners],
          },
  };
}
