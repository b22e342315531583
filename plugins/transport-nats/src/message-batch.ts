import { readRaftMessage, WireError, wireSize, type Message, type WireReader } from '@cairn/core';
import { encodeEnvelope, EnvelopeKind, type EnvelopeHeader } from './envelope.js';

/*
 * The bodies that carry Raft messages:
 *   Messages: u32 count, then each message as u32 length and its encoding (the core's Raft message codec);
 *   Fragment: u32 message number, u32 total length, u32 offset, then the piece (the rest).
 */

/** Bytes one encoded message adds to a Messages body. */
export const batchedSize = (encoded: Uint8Array): number => wireSize.u32 + encoded.byteLength;
/** A Messages body's own bytes beside its messages. */
export const BATCH_OVERHEAD = wireSize.u32;
/** A Fragment body's own bytes beside its piece. */
export const FRAGMENT_OVERHEAD = 3 * wireSize.u32;

export function encodeBatch(header: EnvelopeHeader, encoded: readonly Uint8Array[]): Buffer {
  const bodyBytes = encoded.reduce((size, m) => size + batchedSize(m), BATCH_OVERHEAD);
  return encodeEnvelope(EnvelopeKind.Messages, header, bodyBytes, (writer) => {
    writer.u32(encoded.length);
    for (const m of encoded) writer.bytes(m);
  });
}

export function readBatch(body: WireReader): Message[] {
  const count = body.u32('message count');
  if (count * wireSize.u32 > body.remaining) throw new WireError(`message count ${count} exceeds the envelope`);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.u32('message length');
    const start = body.remaining;
    messages.push(readRaftMessage(body));
    if (start - body.remaining !== length) throw new WireError(`message ${i} is ${start - body.remaining} bytes, its length says ${length}`);
  }
  body.end('messages');
  return messages;
}

/** One piece of a message sent in several envelopes. */
export interface Fragment {
  /** Numbers the sender's fragmented messages (per incarnation), so pieces of two never mix. */
  readonly messageNumber: number;
  readonly totalBytes: number;
  readonly offset: number;
  /** A view into the envelope: copy what is kept. */
  readonly piece: Uint8Array;
}

export function encodeFragment(header: EnvelopeHeader, fragment: Fragment): Buffer {
  return encodeEnvelope(EnvelopeKind.Fragment, header, FRAGMENT_OVERHEAD + fragment.piece.byteLength, (writer) => {
    writer.u32(fragment.messageNumber);
    writer.u32(fragment.totalBytes);
    writer.u32(fragment.offset);
    writer.raw(fragment.piece);
  });
}

export function readFragment(body: WireReader): Fragment {
  const messageNumber = body.u32('message number');
  const totalBytes = body.u32('total length');
  const offset = body.u32('offset');
  const piece = body.rest();
  if (piece.byteLength === 0 || offset + piece.byteLength > totalBytes) {
    throw new WireError(`fragment of ${piece.byteLength} bytes at ${offset} does not fit a ${totalBytes}-byte message`);
  }
  return { messageNumber, totalBytes, offset, piece };
}
