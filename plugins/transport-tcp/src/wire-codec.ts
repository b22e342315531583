import { raftMessageSize, WireReader, writeRaftMessage, type Message } from '@cairn/core';
import { encodeFrame, frameBytes, FrameType, writeFrame } from './frame.js';
import {
  helloSize,
  readHello,
  readSnapshotAck,
  readWelcome,
  shortReason,
  snapshotAckSize,
  welcomeSize,
  writeHello,
  writeSnapshotAck,
  writeWelcome,
  type Hello,
  type SnapshotAck,
  type Welcome,
} from './handshake.js';

/**
 * Whole frames for each thing a peer connection carries, and the decoders of their payloads. A
 * Message or SnapshotBegin payload is the core's Raft message encoding (`decodeRaftMessage` reads it).
 */

export const encodeMessageFrame = (message: Message, type: FrameType.Message | FrameType.SnapshotBegin = FrameType.Message): Buffer =>
  encodeFrame(type, raftMessageSize(message), (w) => writeRaftMessage(w, message));

/**
 * Message frames back to back in one buffer, to leave in one socket write: the same bytes as one
 * frame each, without a write call and a buffer per message. `sizes[i]` is `raftMessageSize(messages[i])`.
 */
export function encodeMessageFrames(messages: readonly Message[], sizes: readonly number[]): Buffer {
  let total = 0;
  for (const size of sizes) total += frameBytes(size);
  const frames = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    offset = writeFrame(frames, offset, FrameType.Message, sizes[i]!, (w) => writeRaftMessage(w, message));
  }
  return frames;
}

export const encodeHelloFrame = (hello: Hello): Buffer => encodeFrame(FrameType.Hello, helloSize(hello), (w) => writeHello(w, hello));

export function decodeHello(payload: Buffer): Hello {
  const reader = new WireReader(payload);
  const hello = readHello(reader);
  reader.end('hello');
  return hello;
}

export function encodeWelcomeFrame(welcome: Welcome): Buffer {
  const w = { ...welcome, reason: shortReason(welcome.reason) };
  return encodeFrame(FrameType.Welcome, welcomeSize(w), (writer) => writeWelcome(writer, w));
}

export function decodeWelcome(payload: Buffer): Welcome {
  const reader = new WireReader(payload);
  const welcome = readWelcome(reader);
  reader.end('welcome');
  return welcome;
}

export const encodeSnapshotEndFrame = (): Buffer => encodeFrame(FrameType.SnapshotEnd, 0, () => undefined);

export function encodeSnapshotAckFrame(ack: SnapshotAck): Buffer {
  const a = { ...ack, reason: shortReason(ack.reason) };
  return encodeFrame(FrameType.SnapshotAck, snapshotAckSize(a), (writer) => writeSnapshotAck(writer, a));
}

export function decodeSnapshotAck(payload: Buffer): SnapshotAck {
  const reader = new WireReader(payload);
  const ack = readSnapshotAck(reader);
  reader.end('snapshot ack');
  return ack;
}

/** A Ping or Pong: the connector's send time in whole microseconds of its own clock, echoed by the listener. */
export const PROBE_PAYLOAD_BYTES = 8;

export function encodeProbeFrame(type: FrameType.Ping | FrameType.Pong, sentAtMicros: number): Buffer {
  return encodeFrame(type, PROBE_PAYLOAD_BYTES, (w) => w.u64(sentAtMicros));
}

export function decodeProbe(payload: Buffer): number {
  const reader = new WireReader(payload);
  const sentAtMicros = reader.u64('probe time');
  reader.end('probe');
  return sentAtMicros;
}
