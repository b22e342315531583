import type { Socket } from 'node:net';
import { WireError, type CounterSeries, type MemberId, type Message } from '@cairn/core';
import { encodeRawFrame, FrameDecoder, FrameType } from './frame.js';
import { ConnectionKind, PROTOCOL_VERSION } from './handshake.js';
import type { PeerAddress } from './peer-address.js';
import type { PeerSockets } from './peer-sockets.js';
import { decodeSnapshotAck, decodeWelcome, encodeHelloFrame, encodeMessageFrame, encodeSnapshotEndFrame } from './wire-codec.js';

export interface SnapshotSendOptions {
  readonly self: MemberId;
  readonly clusterId: () => string;
  readonly address: PeerAddress;
  readonly sockets: PeerSockets;
  /** Largest snapshot chunk frame; bigger chunks from the stream are split. */
  readonly chunkBytes: number;
  /** The transfer fails when neither side sends anything for this long. */
  readonly idleTimeoutMs: number;
  /** Called with the socket once it exists, so the transport can destroy it on stop. */
  readonly track: (socket: Socket) => () => void;
  /** Counts the bytes written to the receiver (etcd counts snapshots in its peer sent bytes). */
  readonly sent?: CounterSeries;
}

/**
 * Streams one snapshot on its own connection: Hello, SnapshotBegin (the Snap message), the bytes
 * as chunk frames, SnapshotEnd, then waits for the receiver's SnapshotAck. The stream is pulled
 * only as fast as the socket drains, so the snapshot is never whole in memory.
 */
export async function sendSnapshotOver(message: Message, data: AsyncIterable<Uint8Array>, options: SnapshotSendOptions): Promise<void> {
  const { address, self, clusterId } = options;
  // Writes before the connection (or its TLS handshake) completes are buffered by the socket.
  const socket = options.sockets.connect(address, () => undefined);
  const untrack = options.track(socket);
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs);

  let failure: Error | undefined;
  let onSettled: () => void = () => undefined;
  // Resolves with the receiver's verdict; rejects when the connection fails first.
  const verdict = new Promise<void>((resolve, reject) => {
    const decoder = new FrameDecoder(64 * 1024);
    let welcomed = false;
    const fail = (err: Error): void => {
      failure ??= err;
      socket.destroy();
      reject(failure);
      onSettled();
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => {
          if (frame.type === FrameType.Welcome && !welcomed) {
            const welcome = decodeWelcome(frame.payload);
            if (!welcome.accepted) throw new Error(`snapshot to ${message.to} refused: ${welcome.reason}`);
            welcomed = true;
          } else if (frame.type === FrameType.SnapshotAck && welcomed) {
            const ack = decodeSnapshotAck(frame.payload);
            if (!ack.stored) throw new Error(`snapshot to ${message.to} rejected by the receiver: ${ack.reason}`);
            socket.destroy();
            resolve();
            onSettled();
            return false;
          } else {
            throw new WireError(`unexpected ${FrameType[frame.type]} frame on a snapshot connection`);
          }
          return true;
        });
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.on('timeout', () => fail(new Error(`snapshot to ${message.to}: no progress for ${options.idleTimeoutMs} ms`)));
    socket.on('error', (err: NodeJS.ErrnoException) => fail(new Error(`snapshot to ${message.to} failed: ${err.code ?? err.message}`)));
    socket.on('close', () => fail(new Error(`snapshot to ${message.to}: connection closed before the receiver acknowledged`)));
  });
  verdict.catch(() => undefined);
  let settled = false;
  onSettled = () => {
    settled = true;
    wakeWriter?.();
  };
  let wakeWriter: (() => void) | undefined;
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wakeWriter = resolve;
      socket.once('drain', () => resolve());
    });

  try {
    socket.write(encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Snapshot, clusterId: clusterId(), from: self, to: message.to }));
    socket.write(encodeMessageFrame(message, FrameType.SnapshotBegin));
    for await (const chunk of data) {
      if (settled) break;
      for (let offset = 0; offset < chunk.byteLength && !settled; offset += options.chunkBytes) {
        const piece = chunk.subarray(offset, Math.min(chunk.byteLength, offset + options.chunkBytes));
        const [head, body] = encodeRawFrame(FrameType.SnapshotChunk, piece);
        socket.write(head);
        if (!socket.write(body)) await drained();
      }
    }
    if (!settled) socket.write(encodeSnapshotEndFrame());
  } catch (err) {
    // The snapshot source failed: tell the receiver by hanging up mid-stream.
    socket.destroy();
    untrack();
    throw new Error(`snapshot to ${message.to}: reading the snapshot failed: ${(err as Error).message}`, { cause: err });
  }
  try {
    await verdict;
  } finally {
    untrack();
    options.sent?.inc(socket.bytesWritten);
  }
}
