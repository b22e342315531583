import { DEFAULT_MAX_FRAME_SIZE, FrameFlag, FrameType, frameBytes } from './http2-frame.js';

export interface HeaderBlockTarget {
  readonly streamId: number;
  /** The request ends with these headers (END_STREAM on the HEADERS frame). */
  readonly endStream: boolean;
  /** Stream dependency and weight to carry over (PRIORITY flag), when the original frame had them. */
  readonly priority?: Buffer | undefined;
}

/**
 * One header block as a HEADERS frame and as many CONTINUATION frames as it takes, each payload at
 * most `maxFrameSize` bytes (16 KiB by default: every peer accepts that much). The frames come back
 * as one buffer, so nothing can be written between them (RFC 9113 §6.10).
 */
export function headerBlockFrames(target: HeaderBlockTarget, block: Buffer, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): Buffer {
  const frames: Buffer[] = [];
  const prefix = target.priority ?? Buffer.alloc(0);
  const firstRoom = maxFrameSize - prefix.length;
  let offset = Math.min(firstRoom, block.length);
  const first = block.subarray(0, offset);
  let flags = (target.endStream ? FrameFlag.END_STREAM : 0) | (target.priority !== undefined ? FrameFlag.PRIORITY : 0);
  if (offset === block.length) flags |= FrameFlag.END_HEADERS;
  const firstPayload = prefix.length > 0 ? Buffer.concat([prefix, first]) : first;
  frames.push(frameBytes({ length: firstPayload.length, type: FrameType.HEADERS, flags, streamId: target.streamId }, firstPayload));
  while (offset < block.length) {
    const end = Math.min(offset + maxFrameSize, block.length);
    const last = end === block.length;
    const payload = block.subarray(offset, end);
    frames.push(
      frameBytes({ length: payload.length, type: FrameType.CONTINUATION, flags: last ? FrameFlag.END_HEADERS : 0, streamId: target.streamId }, payload),
    );
    offset = end;
  }
  return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
}
