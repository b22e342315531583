import { encodeHeaderBlock } from '../../src/authority/hpack-encoder.js';
import type { HeaderField } from '../../src/authority/hpack-decoder.js';
import { CLIENT_PREFACE, FrameFlag, FrameType, frameBytes, readFrameHeader, type FrameHeader } from '../../src/authority/http2-frame.js';

/** Hand-made HTTP/2 bytes for the authority repair's tests. */

export const preface = (): Buffer => Buffer.from(CLIENT_PREFACE);

export function settingsFrame(values: Record<number, number> = {}): Buffer {
  const entries = Object.entries(values);
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(Number(id), i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frameBytes({ length: payload.length, type: FrameType.SETTINGS, flags: 0, streamId: 0 }, payload);
}

export const settingsAck = (): Buffer => frameBytes({ length: 0, type: FrameType.SETTINGS, flags: FrameFlag.ACK, streamId: 0 });

export function pingFrame(opaque = 7): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(opaque, 4);
  return frameBytes({ length: 8, type: FrameType.PING, flags: 0, streamId: 0 }, payload);
}

export function dataFrame(streamId: number, data: Buffer, endStream = true): Buffer {
  return frameBytes({ length: data.length, type: FrameType.DATA, flags: endStream ? FrameFlag.END_STREAM : 0, streamId }, data);
}

/** A literal with incremental indexing and a literal name (RFC 7541 §6.2.1), raw strings: it adds an entry to the table. */
export function indexingLiteral(name: string, value: string): Buffer {
  const str = (text: string): Buffer => {
    if (text.length >= 127) throw new Error('test helper: strings under 127 octets only');
    return Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
  };
  return Buffer.concat([Buffer.from([0x40]), str(name), str(value)]);
}

export interface HeadersOptions {
  readonly endStream?: boolean;
  readonly padLength?: number;
  readonly priority?: Buffer;
}

/** One HEADERS frame carrying `block` (a whole block: END_HEADERS), with optional padding and priority. */
export function headersFrame(streamId: number, block: Buffer | readonly HeaderField[], options: HeadersOptions = {}): Buffer {
  const fragment = Buffer.isBuffer(block) ? block : encodeHeaderBlock(block);
  let flags = FrameFlag.END_HEADERS | (options.endStream ? FrameFlag.END_STREAM : 0);
  const parts: Buffer[] = [];
  if (options.padLength !== undefined) {
    flags |= FrameFlag.PADDED;
    parts.push(Buffer.from([options.padLength]));
  }
  if (options.priority !== undefined) {
    flags |= FrameFlag.PRIORITY;
    parts.push(options.priority);
  }
  parts.push(fragment, Buffer.alloc(options.padLength ?? 0));
  const payload = Buffer.concat(parts);
  return frameBytes({ length: payload.length, type: FrameType.HEADERS, flags, streamId }, payload);
}

/** A header block cut over a HEADERS frame without END_HEADERS and CONTINUATION frames of `pieceSize`. */
export function headersWithContinuations(streamId: number, block: Buffer, pieceSize: number): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at < block.length || at === 0; at += pieceSize) {
    const piece = block.subarray(at, at + pieceSize);
    const last = at + pieceSize >= block.length;
    const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    frames.push(frameBytes({ length: piece.length, type, flags: last ? FrameFlag.END_HEADERS : 0, streamId }, piece));
    if (last) break;
  }
  return Buffer.concat(frames);
}

export function grpcRequestFields(authority: string, path = '/etcdserverpb.Maintenance/Status'): HeaderField[] {
  return [
    { name: ':method', value: 'POST' },
    { name: ':scheme', value: 'http' },
    { name: ':path', value: path },
    { name: ':authority', value: authority },
    { name: 'content-type', value: 'application/grpc' },
    { name: 'te', value: 'trailers' },
  ];
}

/** Every frame in `bytes` (which starts at a frame boundary), header and payload. */
export function framesIn(bytes: Buffer): { header: FrameHeader; payload: Buffer }[] {
  const frames: { header: FrameHeader; payload: Buffer }[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readFrameHeader(bytes, at);
    frames.push({ header, payload: bytes.subarray(at + 9, at + 9 + header.length) });
    at += 9 + header.length;
  }
  return frames;
}
