import { gunzipSync, inflateSync } from 'node:zlib';
import { EtcdError, GrpcCode } from '@cairn/core';

/** gRPC's length prefix: a compressed flag byte, then the message length as a 32-bit big-endian integer. */
const PREFIX_BYTES = 5;

/** `message` with gRPC's length prefix, uncompressed, in one buffer (one HTTP/2 write). */
export function framedMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}

/** Several messages framed back to back in one buffer: a stream's responses of one turn leave in one write. */
export function framedMessages(messages: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const m of messages) total += PREFIX_BYTES + m.length;
  const frames = Buffer.allocUnsafe(total);
  let at = 0;
  for (const m of messages) {
    frames[at] = 0;
    frames.writeUInt32BE(m.length, at + 1);
    frames.set(m, at + PREFIX_BYTES);
    at += PREFIX_BYTES + m.length;
  }
  return frames;
}

/** The size grpc-go and grpc-js refuse a message over, in their words (RESOURCE_EXHAUSTED). */
export function tooLarge(size: number, max: number): EtcdError {
  return new EtcdError(GrpcCode.ResourceExhausted, `Received message larger than max (${size} vs. ${max})`);
}

/**
 * Cuts a request stream's DATA into gRPC messages. A message whose prefix announces more than
 * `maxBytes` is refused before its body is buffered; compressed messages are inflated
 * (gzip, deflate: what grpc clients may send) and held to the same limit.
 */
export class MessageReader {
  private pending: Buffer | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly encoding: string,
  ) {}

  /** The messages `chunk` completes, in order. Throws an EtcdError (the call's status) on a bad message. */
  push(chunk: Buffer): Buffer[] {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const messages: Buffer[] = [];
    while (data.length >= PREFIX_BYTES) {
      const length = data.readUInt32BE(1);
      if (length > this.maxBytes) throw tooLarge(length, this.maxBytes);
      if (data.length < PREFIX_BYTES + length) break;
      const body = data.subarray(PREFIX_BYTES, PREFIX_BYTES + length);
      messages.push(data[0] === 0 ? body : this.inflate(body));
      data = data.subarray(PREFIX_BYTES + length);
    }
    if (data.length > 0) this.pending = data;
    return messages;
  }

  /** Bytes of a message not complete yet (the stream ended inside a message if any remain). */
  get partial(): number {
    return this.pending?.length ?? 0;
  }

  private inflate(body: Buffer): Buffer {
    let inflated: Buffer;
    try {
      if (this.encoding === 'gzip') inflated = gunzipSync(body, { maxOutputLength: this.maxBytes + 1 });
      else if (this.encoding === 'deflate') inflated = inflateSync(body, { maxOutputLength: this.maxBytes + 1 });
      else if (this.encoding === 'identity') throw new EtcdError(GrpcCode.Internal, 'grpc: compressed flag set with identity or empty encoding');
      else throw new EtcdError(GrpcCode.Unimplemented, `grpc: Decompressor is not installed for grpc-encoding "${this.encoding}"`);
    } catch (err) {
      if (err instanceof EtcdError) throw err;
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(this.maxBytes + 1, this.maxBytes);
      throw new EtcdError(GrpcCode.Internal, `grpc: failed to decompress the received message: ${(err as Error).message}`);
    }
    if (inflated.length > this.maxBytes) throw tooLarge(inflated.length, this.maxBytes);
    return inflated;
  }
}
