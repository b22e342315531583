import { crc32 } from 'node:zlib';
import { WireError, WireWriter } from '@cairn/core';

/** What a frame carries; the first byte of its body. */
export enum FrameType {
  /** Connector → listener, first frame of every connection. */
  Hello = 1,
  /** Listener → connector: the handshake's answer. */
  Welcome = 2,
  /** One Raft message. */
  Message = 3,
  /** Snapshot connection: the Snap message that describes the snapshot. */
  SnapshotBegin = 4,
  /** Snapshot connection: the next bytes of the snapshot. */
  SnapshotChunk = 5,
  /** Snapshot connection: no more bytes. */
  SnapshotEnd = 6,
  /** Snapshot connection, listener → sender: the receiver stored it, or why not. */
  SnapshotAck = 7,
  /** Message connection, connector → listener: answer with a Pong carrying the same payload (round-trip time). */
  Ping = 8,
  /** Message connection, listener → connector: the Ping's payload, echoed. */
  Pong = 9,
}

/**
 * A frame on the wire: u32 length of the body, u32 CRC-32 of the body, then the body
 * (one type byte and the payload). The checksum catches corruption the TCP checksum misses
 * and a peer that speaks some other protocol.
 */
export const FRAME_HEADER_BYTES = 8;

/** Bytes a frame of `payloadBytes` takes on the wire. */
export const frameBytes = (payloadBytes: number): number => FRAME_HEADER_BYTES + 1 + payloadBytes;

/** Builds a frame in one allocation: `writePayload` fills exactly `payloadBytes` bytes. */
export function encodeFrame(type: FrameType, payloadBytes: number, writePayload: (writer: WireWriter) => void): Buffer {
  const frame = Buffer.allocUnsafe(frameBytes(payloadBytes));
  writeFrame(frame, 0, type, payloadBytes, writePayload);
  return frame;
}

/** Writes a whole frame into `buffer` at `offset` (several frames can share one buffer, one socket write); returns where it ends. */
export function writeFrame(buffer: Buffer, offset: number, type: FrameType, payloadBytes: number, writePayload: (writer: WireWriter) => void): number {
  const end = offset + frameBytes(payloadBytes);
  const writer = new WireWriter(buffer, offset + FRAME_HEADER_BYTES);
  writer.u8(type);
  writePayload(writer);
  if (writer.position !== end) throw new Error(`frame ${FrameType[type]}: wrote ${writer.position - offset} of ${end - offset} bytes`);
  sealFrame(buffer.subarray(offset, end));
  return end;
}

/** A frame whose payload is raw bytes (snapshot chunks): header and type in a small buffer beside the data, no copy. */
export function encodeRawFrame(type: FrameType, payload: Uint8Array): [Buffer, Uint8Array] {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1);
  head.writeUInt32BE(1 + payload.byteLength, 0);
  head.writeUInt8(type, FRAME_HEADER_BYTES);
  head.writeUInt32BE(crc32(payload, crc32(head.subarray(FRAME_HEADER_BYTES))), 4);
  return [head, payload];
}

function sealFrame(frame: Buffer): void {
  const body = frame.subarray(FRAME_HEADER_BYTES);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.writeUInt32BE(crc32(body), 4);
}

/** A frame header announcing more bytes than the connection allows: refused before any of them is buffered. */
export class FrameTooLargeError extends WireError {
  constructor(announced: number, max: number) {
    super(`frame length ${announced} outside 1..${max}`);
  }
}

export interface DecodedFrame {
  readonly type: FrameType;
  /** A view into the read buffer; decode or copy it before the next push. */
  readonly payload: Buffer;
}

/**
 * Cuts a byte stream into checked frames. Collects socket chunks and joins them once per frame,
 * so a large frame costs one copy. Throws a WireError on a bad length, checksum or type; the
 * caller drops the connection.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private maxFrameBytes: number) {}

  /** Bytes of a frame begun but not complete: a peer that stops in the middle of a frame leaves them here. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** A new bound for the frames after this (a connection allows small frames until its handshake, then full-size ones). */
  limitTo(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Feed bytes; `onFrame` gets each frame they complete, in order, before a bad frame after them
   * throws. `onFrame` returns false to stop reading (the connection is finished).
   */
  push(chunk: Buffer, onFrame: (frame: DecodedFrame) => boolean | void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) return;
      const head = this.peek(FRAME_HEADER_BYTES);
      const bodyBytes = head.readUInt32BE(0);
      if (bodyBytes > this.maxFrameBytes) throw new FrameTooLargeError(bodyBytes, this.maxFrameBytes);
      if (bodyBytes < 1) throw new WireError('frame length 0');
      const total = FRAME_HEADER_BYTES + bodyBytes;
      if (this.buffered < total) return;
      const frame = this.take(total);
      const body = frame.subarray(FRAME_HEADER_BYTES);
      if (crc32(body) !== frame.readUInt32BE(4)) throw new WireError('frame checksum mismatch');
      const type = body.readUInt8(0);
      if (FrameType[type] === undefined) throw new WireError(`unknown frame type ${type}`);
      if (onFrame({ type: type as FrameType, payload: body.subarray(1) }) === false) return;
    }
  }

  /** The first `n` buffered bytes, joining chunks only if the first is too short. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.byteLength < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.byteLength < n) {
      // Join just enough chunks to cover the frame.
      let covered = 0;
      let count = 0;
      while (covered < n) covered += this.chunks[count++]!.byteLength;
      first = Buffer.concat(this.chunks.slice(0, count), covered);
      this.chunks.splice(0, count, first);
    }
    const frame = first.subarray(0, n);
    if (first.byteLength === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}
