import { ErrorCode, FrameFlag, FrameType, Http2ConnectionError, splitHeadersPayload, type FrameHeader } from './http2-frame.js';

/** Largest header block (compressed) accepted across HEADERS and CONTINUATION frames. */
export const MAX_HEADER_BLOCK_BYTES = 1 << 20;

/** One complete header block and what its HEADERS frame said about the stream. */
export interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  /** Stream dependency and weight, when the HEADERS frame had the PRIORITY flag. */
  readonly priority: Buffer | undefined;
  readonly fragment: Buffer;
}

interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly priority: Buffer | undefined;
  readonly fragments: Buffer[];
  bytes: number;
}

/**
 * Joins a HEADERS frame and its CONTINUATION frames into one header block, checking the order
 * RFC 9113 §6.10 demands: once a block is open, only CONTINUATION frames of its stream may come.
 */
export class HeaderBlockAssembler {
  private open: OpenBlock | undefined;

  /** A block is open: every frame up to its END_HEADERS must be a CONTINUATION. */
  get isOpen(): boolean {
    return this.open !== undefined;
  }

  /** The next frame of the connection; a HEADERS or CONTINUATION one may complete a block. Throws Http2ConnectionError. */
  frame(header: FrameHeader, payload: Buffer): HeaderBlock | undefined {
    if (header.type === FrameType.HEADERS) {
      if (this.open !== undefined) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS while a header block is open');
      if (header.streamId === 0) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
      const { priority, fragment } = splitHeadersPayload(header.flags, payload);
      const block = { streamId: header.streamId, endStream: (header.flags & FrameFlag.END_STREAM) !== 0, priority };
      if (header.flags & FrameFlag.END_HEADERS) return { ...block, fragment };
      this.open = { ...block, fragments: [fragment], bytes: fragment.length };
      return undefined;
    }
    if (header.type === FrameType.CONTINUATION) {
      const open = this.open;
      if (open === undefined || open.streamId !== header.streamId) {
        throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${header.streamId} without its HEADERS`);
      }
      open.fragments.push(payload);
      open.bytes += payload.length;
      if (open.bytes > MAX_HEADER_BLOCK_BYTES) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `header block over ${MAX_HEADER_BLOCK_BYTES} bytes`);
      if ((header.flags & FrameFlag.END_HEADERS) === 0) return undefined;
      this.open = undefined;
      return { streamId: open.streamId, endStream: open.endStream, priority: open.priority, fragment: Buffer.concat(open.fragments) };
    }
    if (this.open !== undefined) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, `frame of type ${header.type} inside a header block`);
    return undefined;
  }
}
