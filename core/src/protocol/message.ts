import type { MemberId, Message, MessageType } from './raft-types.js';

const EMPTY = new Uint8Array(0);

/** Build a message; fields a type does not use keep their zero values. */
export function message(type: MessageType, from: MemberId, to: MemberId, fields: Partial<Message> = {}): Message {
  return {
    type,
    from,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    ...fields,
  };
}
