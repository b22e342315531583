/** HTTP/2 frame layout (RFC 9113 §4.1, §6): the facts the authority repair needs, nothing more. */

export const FRAME_HEADER_LENGTH = 9;
/** The client's connection preface, sent before any frame (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** SETTINGS_MAX_FRAME_SIZE's initial value; no peer may advertise less (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FrameFlag = {
  /** SETTINGS and PING: this frame acknowledges the peer's. */
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  MAX_CONCURRENT_STREAMS: 0x3,
  MAX_FRAME_SIZE: 0x5,
} as const;

export const ErrorCode = {
  PROTOCOL_ERROR: 0x1,
  FRAME_SIZE_ERROR: 0x6,
  COMPRESSION_ERROR: 0x9,
} as const;

export interface FrameHeader {
  /** Payload length, not counting the 9-byte header. */
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

export function readFrameHeader(bytes: Buffer, offset = 0): FrameHeader {
  return {
    length: bytes.readUIntBE(offset, 3),
    type: bytes[offset + 3]!,
    flags: bytes[offset + 4]!,
    streamId: bytes.readUInt32BE(offset + 5) & 0x7fffffff,
  };
}

/** The frames the authority repair must see whole: header blocks, and SETTINGS for the ACK accounting. */
export function isHeaderBlockOrSettingsFrame(header: FrameHeader): boolean {
  return header.type === FrameType.HEADERS || header.type === FrameType.CONTINUATION || header.type === FrameType.SETTINGS;
}

export function frameBytes(header: FrameHeader, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payload.length);
  frame.writeUIntBE(payload.length, 0, 3);
  frame[3] = header.type;
  frame[4] = header.flags;
  frame.writeUInt32BE(header.streamId & 0x7fffffff, 5);
  payload.copy(frame, FRAME_HEADER_LENGTH);
  return frame;
}

/** A frame that breaks the protocol: the connection ends with GOAWAY carrying `code`. */
export class Http2ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'Http2ConnectionError';
  }
}

/** What a HEADERS frame's payload holds once padding and the priority fields are taken off (RFC 9113 §6.2). */
export interface HeadersPayload {
  /** The 5 bytes of stream dependency and weight when the PRIORITY flag is set. */
  readonly priority: Buffer | undefined;
  readonly fragment: Buffer;
}

export function splitHeadersPayload(flags: number, payload: Buffer): HeadersPayload {
  let start = 0;
  let end = payload.length;
  if (flags & FrameFlag.PADDED) {
    if (payload.length < 1) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS: no room for the pad length');
    end -= payload[0]!;
    start = 1;
  }
  let priority: Buffer | undefined;
  if (flags & FrameFlag.PRIORITY) {
    priority = payload.subarray(start, start + 5);
    start += 5;
  }
  if (end < start) throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS: padding longer than the payload');
  return { priority, fragment: payload.subarray(start, end) };
}

/** The values of a SETTINGS payload, by identifier (later ones win, RFC 9113 §6.5.3). */
export function readSettings(payload: Buffer): Map<number, number> {
  if (payload.length % 6 !== 0) throw new Http2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS: length not a multiple of 6');
  const values = new Map<number, number>();
  for (let offset = 0; offset < payload.length; offset += 6) values.set(payload.readUInt16BE(offset), payload.readUInt32BE(offset + 2));
  return values;
}

/** A SETTINGS payload holding `values` (identifier → 32-bit value), in the order given. */
export function settingsPayload(values: ReadonlyMap<number, number>): Buffer {
  const payload = Buffer.alloc(values.size * 6);
  let offset = 0;
  for (const [id, value] of values) {
    payload.writeUInt16BE(id, offset);
    payload.writeUInt32BE(value, offset + 2);
    offset += 6;
  }
  return payload;
}

export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  payload.writeUInt32BE(code, 4);
  return frameBytes({ length: 8, type: FrameType.GOAWAY, flags: 0, streamId: 0 }, payload);
}
