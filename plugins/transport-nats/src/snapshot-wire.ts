import { raftMessageSize, readRaftMessage, WireError, wireSize, writeRaftMessage, type Message, type WireReader } from '@cairn/core';
import { encodeEnvelope, EnvelopeKind, type EnvelopeHeader } from './envelope.js';

/*
 * The bodies of a snapshot transfer; each starts with the transfer's ID (a string):
 *   Begin: the Snap message;
 *   Chunk: u32 sequence number, then the bytes (the rest);
 *   End:   u32 chunk count, u64 total bytes, 32 bytes SHA-256 of the whole stream;
 *   Ack:   u8 verdict (progress, stored, refused, resend), u32 received (chunks in order so far), u32 consumed (handed to the store), bytes reason;
 *   Abort: bytes reason.
 */

export const SHA256_BYTES = 32;
/** Longest reason carried; the rest is cut. */
const MAX_REASON_CHARS = 1000;

/** A receiver's state of a transfer, as its acks say. */
export enum SnapshotVerdict {
  /** Still going: `received` and `consumed` say how far. */
  Progress = 0,
  /** Stored durably: the transfer succeeded. */
  Stored = 1,
  /** Refused (or failed): `reason` says why; the sender stops. */
  Refused = 2,
  /** Chunks were lost: send again from `received`. */
  Resend = 3,
}

export interface SnapshotAck {
  readonly transferId: string;
  readonly verdict: SnapshotVerdict;
  readonly received: number;
  readonly consumed: number;
  readonly reason: string;
}

export interface SnapshotEnd {
  readonly transferId: string;
  readonly chunkCount: number;
  readonly totalBytes: number;
  readonly sha256: Uint8Array;
}

const shortReason = (reason: string): Buffer => Buffer.from(reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason, 'utf8');

export function encodeSnapshotBegin(header: EnvelopeHeader, transferId: string, snap: Message): Buffer {
  return encodeEnvelope(EnvelopeKind.SnapshotBegin, header, wireSize.string(transferId) + raftMessageSize(snap), (writer) => {
    writer.string(transferId);
    writeRaftMessage(writer, snap);
  });
}

export function readSnapshotBegin(body: WireReader): { transferId: string; snap: Message } {
  const transferId = body.string('transfer id');
  const snap = readRaftMessage(body);
  body.end('snapshot begin');
  return { transferId, snap };
}

export function encodeSnapshotChunk(header: EnvelopeHeader, transferId: string, sequence: number, bytes: Uint8Array): Buffer {
  return encodeEnvelope(EnvelopeKind.SnapshotChunk, header, wireSize.string(transferId) + wireSize.u32 + bytes.byteLength, (writer) => {
    writer.string(transferId);
    writer.u32(sequence);
    writer.raw(bytes);
  });
}

/** `bytes` is a view into the envelope: copy what is kept. */
export function readSnapshotChunk(body: WireReader): { transferId: string; sequence: number; bytes: Uint8Array } {
  return { transferId: body.string('transfer id'), sequence: body.u32('chunk sequence'), bytes: body.rest() };
}

/** Chunk envelope bytes beside the chunk's own bytes. */
export const chunkOverhead = (transferId: string): number => wireSize.string(transferId) + wireSize.u32;

export function encodeSnapshotEnd(header: EnvelopeHeader, end: SnapshotEnd): Buffer {
  if (end.sha256.byteLength !== SHA256_BYTES) throw new RangeError('a SHA-256 digest is 32 bytes');
  return encodeEnvelope(EnvelopeKind.SnapshotEnd, header, wireSize.string(end.transferId) + wireSize.u32 + wireSize.u64 + SHA256_BYTES, (writer) => {
    writer.string(end.transferId);
    writer.u32(end.chunkCount);
    writer.u64(end.totalBytes);
    writer.raw(end.sha256);
  });
}

export function readSnapshotEnd(body: WireReader): SnapshotEnd {
  const transferId = body.string('transfer id');
  const chunkCount = body.u32('chunk count');
  const totalBytes = body.u64('total bytes');
  const sha256 = Uint8Array.from(body.slice(SHA256_BYTES, 'sha-256'));
  body.end('snapshot end');
  return { transferId, chunkCount, totalBytes, sha256 };
}

export function encodeSnapshotAck(header: EnvelopeHeader, ack: SnapshotAck): Buffer {
  const reason = shortReason(ack.reason);
  return encodeEnvelope(
    EnvelopeKind.SnapshotAck,
    header,
    wireSize.string(ack.transferId) + wireSize.u8 + 2 * wireSize.u32 + wireSize.bytes(reason),
    (writer) => {
      writer.string(ack.transferId);
      writer.u8(ack.verdict);
      writer.u32(ack.received);
      writer.u32(ack.consumed);
      writer.bytes(reason);
    },
  );
}

export function readSnapshotAck(body: WireReader): SnapshotAck {
  const transferId = body.string('transfer id');
  const verdict = body.u8('verdict');
  if (SnapshotVerdict[verdict] === undefined) throw new WireError(`unknown snapshot verdict ${verdict}`);
  const received = body.u32('received');
  const consumed = body.u32('consumed');
  const reason = Buffer.from(body.bytes('reason')).toString('utf8');
  body.end('snapshot ack');
  return { transferId, verdict: verdict as SnapshotVerdict, received, consumed, reason };
}

export function encodeSnapshotAbort(header: EnvelopeHeader, transferId: string, reason: string): Buffer {
  const text = shortReason(reason);
  return encodeEnvelope(EnvelopeKind.SnapshotAbort, header, wireSize.string(transferId) + wireSize.bytes(text), (writer) => {
    writer.string(transferId);
    writer.bytes(text);
  });
}

export function readSnapshotAbort(body: WireReader): { transferId: string; reason: string } {
  const transferId = body.string('transfer id');
  const reason = Buffer.from(body.bytes('reason')).toString('utf8');
  body.end('snapshot abort');
  return { transferId, reason };
}
