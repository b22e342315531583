import { expect } from 'chai';
import { EntryType, MessageType, type Message } from '@cairn/core';
import { FrameDecoder, FrameType } from '../src/frame.js';
import { ConnectionKind, PROTOCOL_VERSION, refusalOf } from '../src/handshake.js';
import {
  decodeHello,
  decodeMessage,
  decodeSnapshotAck,
  decodeWelcome,
  encodeHelloFrame,
  encodeMessageFrame,
  encodeSnapshotAckFrame,
  encodeWelcomeFrame,
} from '../src/wire-codec.js';
import { WireError } from '../src/wire-error.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

const full: Message = {
  type: MessageType.App,
  from: 'aaaaaaaaaaaaaaaa',
  to: 'bbbbbbbbbbbbbbbb',
  term: 7,
  logTerm: 6,
  index: Number.MAX_SAFE_INTEGER - 1,
  entries: [
    { index: 41, term: 6, type: EntryType.Normal, data: everyByte },
    { index: 42, term: 7, type: EntryType.ConfChange, data: bytes(1, 2, 3) },
    { index: 43, term: 7, type: EntryType.Normal, data: new Uint8Array(0) },
  ],
  commit: 40,
  reject: true,
  rejectHint: 39,
  context: bytes(0xde, 0xad, 0xbe, 0xef),
  snapshot: { index: 30, term: 5, confState: { voters: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'], learners: ['cccccccccccccccc'] } },
};

const plain = (m: Message): unknown => ({
  ...m,
  context: [...m.context],
  entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
});

function frames(buffers: Buffer[], max = 1 << 20): { type: FrameType; payload: Buffer }[] {
  const decoder = new FrameDecoder(max);
  const out: { type: FrameType; payload: Buffer }[] = [];
  for (const b of buffers) decoder.push(b, (f) => void out.push({ type: f.type, payload: Buffer.from(f.payload) }));
  return out;
}

describe('TCP wire codec', () => {
  it('round-trips every field of a message, entries and snapshot meta included', () => {
    const [frame] = frames([encodeMessageFrame(full)]);
    expect(frame!.type).to.equal(FrameType.Message);
    const decoded = decodeMessage(frame!.payload);
    expect(plain(decoded)).to.deep.equal(plain(full));
  });

  it('round-trips a message with no snapshot, no entries and non-ASCII member IDs', () => {
    const m: Message = { ...full, snapshot: undefined, entries: [], reject: false, from: 'ñ1', to: '節点2', context: new Uint8Array(0) };
    const { snapshot: _omitted, ...withoutSnapshot } = m;
    const decoded = decodeMessage(frames([encodeMessageFrame(withoutSnapshot)])[0]!.payload);
    expect(decoded.snapshot).to.equal(undefined);
    expect(plain(decoded)).to.deep.equal(plain(withoutSnapshot));
  });

  it('decodes frames however the stream is cut, including one byte at a time', () => {
    const stream = Buffer.concat([encodeMessageFrame(full), encodeMessageFrame({ ...full, term: 8 }), encodeSnapshotAckFrame({ stored: true, reason: '' })]);
    for (const cut of [1, 3, 8, 9, 17, 100, stream.byteLength]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < stream.byteLength; i += cut) pieces.push(stream.subarray(i, i + cut));
      const out = frames(pieces);
      expect(out.map((f) => f.type)).to.deep.equal([FrameType.Message, FrameType.Message, FrameType.SnapshotAck]);
      expect(decodeMessage(out[1]!.payload).term).to.equal(8);
    }
  });

  it('refuses a frame with any single corrupted byte', () => {
    const frame = encodeMessageFrame(full);
    // Every byte after the length field: checksum, type and payload.
    for (let i = 4; i < frame.byteLength; i++) {
      const bad = Buffer.from(frame);
      bad[i] = bad[i]! ^ 0x40;
      expect(() => frames([bad]), `byte ${i}`).to.throw(WireError, /checksum/);
    }
  });

  it('hands over the good frames that precede a corrupted one in the same chunk', () => {
    const bad = encodeMessageFrame({ ...full, term: 9 });
    bad[bad.byteLength - 1] ^= 1;
    const decoder = new FrameDecoder(1 << 20);
    const seen: number[] = [];
    expect(() => decoder.push(Buffer.concat([encodeMessageFrame(full), bad]), (f) => void seen.push(decodeMessage(f.payload).term))).to.throw(
      WireError,
      /checksum/,
    );
    expect(seen).to.deep.equal([7]);
  });

  it('stops reading when the consumer says the connection is finished', () => {
    const decoder = new FrameDecoder(1 << 20);
    let count = 0;
    decoder.push(Buffer.concat([encodeMessageFrame(full), encodeMessageFrame(full)]), () => ++count < 1);
    expect(count).to.equal(1);
  });

  it('refuses impossible lengths before buffering them', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0xffff_fff0, 0);
    expect(() => frames([huge])).to.throw(WireError, /frame length/);
    const empty = Buffer.alloc(8);
    expect(() => frames([empty])).to.throw(WireError, /frame length 0/);
    expect(() => frames([encodeMessageFrame(full)], 100)).to.throw(WireError, /frame length/);
    expect(() => frames([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')])).to.throw(WireError);
  });

  it('refuses truncated, padded and out-of-range payloads', () => {
    const payload = frames([encodeMessageFrame(full)])[0]!.payload;
    for (const length of [0, 1, 10, 50, payload.byteLength - 1]) {
      expect(() => decodeMessage(payload.subarray(0, length)), `length ${length}`).to.throw(WireError);
    }
    expect(() => decodeMessage(Buffer.concat([payload, Buffer.from([0])]))).to.throw(WireError, /trailing/);
    const badType = Buffer.from(payload);
    badType[0] = 200;
    expect(() => decodeMessage(badType)).to.throw(WireError, /message type/);
    const hugeCount = Buffer.from(encodeMessageFrame({ ...full, entries: [], snapshot: undefined }).subarray(9));
    // The entry count sits right after the context bytes; claim four billion entries.
    const countAt = hugeCount.byteLength - 4 - 1;
    hugeCount.writeUInt32BE(0xffff_ffff, countAt);
    expect(() => decodeMessage(hugeCount)).to.throw(WireError, /entry count/);
  });

  it('refuses integers that would lose precision', () => {
    const payload = Buffer.from(frames([encodeMessageFrame(full)])[0]!.payload);
    // term follows type (1) and two strings (2 + 16 each).
    payload.writeUInt32BE(0x0020_0000, 1 + 18 + 18);
    expect(() => decodeMessage(payload)).to.throw(WireError, /exceeds 2\^53/);
    expect(() => encodeMessageFrame({ ...full, term: 1.5 })).to.throw(RangeError);
  });

  it('round-trips the handshake and the snapshot ack', () => {
    const hello = { version: PROTOCOL_VERSION, kind: ConnectionKind.Snapshot, clusterId: 'c1', from: 'a', to: 'b' };
    expect(decodeHello(frames([encodeHelloFrame(hello)])[0]!.payload)).to.deep.equal(hello);
    const welcome = { accepted: false, clusterId: 'c1', memberId: 'b', reason: 'x'.repeat(5000) };
    const back = decodeWelcome(frames([encodeWelcomeFrame(welcome)])[0]!.payload);
    expect(back.accepted).to.equal(false);
    expect(back.reason.length).to.be.lessThan(1100);
    expect(decodeSnapshotAck(frames([encodeSnapshotAckFrame({ stored: false, reason: 'disk full' })])[0]!.payload)).to.deep.equal({
      stored: false,
      reason: 'disk full',
    });
    const notCairn = Buffer.from(frames([encodeHelloFrame(hello)])[0]!.payload);
    notCairn[0] = 0x58;
    expect(() => decodeHello(notCairn)).to.throw(WireError, /magic/);
  });

  it('refuses another cluster, another protocol version and a misaddressed hello', () => {
    const hello = { version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId: 'c1', from: 'a', to: 'b' };
    expect(refusalOf(hello, 'c1', 'b')).to.equal(undefined);
    expect(refusalOf({ ...hello, to: '' }, 'c1', 'b')).to.equal(undefined);
    expect(refusalOf(hello, 'c2', 'b')).to.match(/cluster ID mismatch: member a is in cluster c1, this member is in cluster c2/);
    expect(refusalOf({ ...hello, version: 99 }, 'c1', 'b')).to.match(/protocol version 99/);
    expect(refusalOf(hello, 'c1', 'z')).to.match(/member ID mismatch/);
  });
});
