import { crc32 } from 'node:zlib';
import { WireError, WireReader, wireSize, WireWriter } from '@cairn/core';

/** What an envelope carries. */
export enum EnvelopeKind {
  /** Whole Raft messages, in order. */
  Messages = 1,
  /** A piece of one Raft message too big for one NATS message. */
  Fragment = 2,
  /** Sender → receiver: a snapshot transfer starts; the Snap message, and the reply subject for acks. */
  SnapshotBegin = 3,
  SnapshotChunk = 4,
  /** Sender → receiver: no more chunks; the count, the length and the SHA-256 of the whole stream. */
  SnapshotEnd = 5,
  /** Receiver → sender (on the reply subject): how far it got, or its verdict. */
  SnapshotAck = 6,
  /** Sender → receiver: the sender gave up (its source failed, or it stopped). */
  SnapshotAbort = 7,
}

/** Who sent an envelope to whom, in which cluster. */
export interface EnvelopeHeader {
  readonly clusterId: string;
  readonly from: string;
  readonly to: string;
  /** Random per transport start: fragments of one sender's run never mix with another's. */
  readonly incarnation: number;
}

/** A checked envelope; `body` reads what follows the header. */
export interface DecodedEnvelope {
  readonly kind: EnvelopeKind;
  readonly header: EnvelopeHeader;
  readonly body: WireReader;
}

/*
 * An envelope: 'C' 'N', u8 version, u8 kind, u32 CRC-32 of everything after it, then the header
 * (string cluster ID, string from, string to, u32 incarnation) and the kind's body, in the core's
 * peer wire fields (a string is a u16 length and UTF-8). The checksum and the magic tell a Cairn
 * envelope from whatever else someone publishes on the subject.
 */
const MAGIC_0 = 0x43;
const MAGIC_1 = 0x4e;
/** 2: Raft messages in the core's encoding (@cairn/transport-tcp's), and u16-length strings. */
export const ENVELOPE_VERSION = 2;
const CHECKED_FROM = 8;

export const envelopeHeaderSize = (header: EnvelopeHeader): number =>
  CHECKED_FROM + wireSize.string(header.clusterId) + wireSize.string(header.from) + wireSize.string(header.to) + wireSize.u32;

/** Builds an envelope in one allocation: `writeBody` writes exactly `bodyBytes` bytes. */
export function encodeEnvelope(kind: EnvelopeKind, header: EnvelopeHeader, bodyBytes: number, writeBody: (writer: WireWriter) => void): Buffer {
  const buffer = Buffer.allocUnsafe(envelopeHeaderSize(header) + bodyBytes);
  const writer = new WireWriter(buffer);
  writer.u8(MAGIC_0);
  writer.u8(MAGIC_1);
  writer.u8(ENVELOPE_VERSION);
  writer.u8(kind);
  writer.u32(0);
  writer.string(header.clusterId);
  writer.string(header.from);
  writer.string(header.to);
  writer.u32(header.incarnation);
  writeBody(writer);
  if (writer.position !== buffer.byteLength) throw new Error(`${EnvelopeKind[kind]} envelope: wrote ${writer.position} of ${buffer.byteLength} bytes`);
  buffer.writeUInt32BE(crc32(buffer.subarray(CHECKED_FROM)), 4);
  return buffer;
}

/** Checks and opens an envelope; throws a WireError on anything else. */
export function decodeEnvelope(data: Uint8Array): DecodedEnvelope {
  if (data.byteLength < CHECKED_FROM) throw new WireError(`${data.byteLength} bytes are too short for an envelope`);
  if (data[0] !== MAGIC_0 || data[1] !== MAGIC_1) throw new WireError('bad magic: not a Cairn envelope');
  if (data[2] !== ENVELOPE_VERSION) throw new WireError(`envelope version ${data[2]} is not supported (this member speaks ${ENVELOPE_VERSION})`);
  const kind = data[3]!;
  if (EnvelopeKind[kind] === undefined) throw new WireError(`unknown envelope kind ${kind}`);
  const reader = new WireReader(data, 4);
  const checksum = reader.u32('checksum');
  if (crc32(data.subarray(CHECKED_FROM)) !== checksum) throw new WireError('envelope checksum mismatch');
  const header = {
    clusterId: reader.string('cluster id'),
    from: reader.string('from'),
    to: reader.string('to'),
    incarnation: reader.u32('incarnation'),
  };
  return { kind: kind as EnvelopeKind, header, body: reader };
}
