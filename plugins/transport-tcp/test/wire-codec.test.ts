import { expect } from 'chai';
import { decodeRaftMessage as decodeMessage, MessageType, raftMessageSize, WireError } from '@cairn/core';
import { comparable, message, richMessages } from '@cairn/core/testkit';
import { encodeRawFrame, FrameDecoder, FrameType } from '../src/frame.js';
import { ConnectionKind, PROTOCOL_VERSION, refusalOf } from '../src/handshake.js';
import {
  decodeHello,
  decodeProbe,
  decodeSnapshotAck,
  decodeWelcome,
  encodeHelloFrame,
  encodeMessageFrame,
  encodeMessageFrames,
  encodeProbeFrame,
  encodeSnapshotAckFrame,
  encodeSnapshotEndFrame,
  encodeWelcomeFrame,
} from '../src/wire-codec.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
/** The testkit's messages that between them set every field; the first is an App of term 7 with three entries. */
const samples = richMessages(A, B, [A, B], ['cccccccccccccccc']);
const full = samples[0]!;

function frames(buffers: Buffer[], max = 1 << 20): { type: FrameType; payload: Buffer }[] {
  const decoder = new FrameDecoder(max);
  const out: { type: FrameType; payload: Buffer }[] = [];
  for (const b of buffers) decoder.push(b, (f) => void out.push({ type: f.type, payload: Buffer.from(f.payload) }));
  return out;
}

/** A Heartbeat from `a` to `b`: term 1, commit 2, every other field empty. */
const heartbeat = message(MessageType.Heartbeat, 'a', 'b', { term: 1, commit: 2 });

describe('TCP wire codec', () => {
  it('puts several messages in one buffer as exactly the frames each would get alone', () => {
    const batch = [heartbeat, ...samples];
    const together = encodeMessageFrames(batch, batch.map(raftMessageSize));
    expect(together.equals(Buffer.concat(batch.map((m) => encodeMessageFrame(m))))).to.equal(true);
    expect(frames([together]).map((f) => comparable(decodeMessage(f.payload)))).to.deep.equal(batch.map(comparable));
    expect(encodeMessageFrames([], []).byteLength).to.equal(0);
  });

  it('writes protocol version 2 byte for byte: every kind of frame', () => {
    const hex = (frame: Buffer | [Buffer, Uint8Array]): string => Buffer.concat(Array.isArray(frame) ? frame : [frame]).toString('hex');
    // u32 body length, u32 CRC-32 of the body, then the body: the frame type and its payload.
    expect(hex(encodeMessageFrame(heartbeat))).to.equal(
      '0000003ad34d9b71' +
        '03' +
        [
          '09',
          '0001' + '61',
          '0001' + '62',
          '0000000000000001',
          '0'.repeat(16),
          '0'.repeat(16),
          '0000000000000002',
          '00',
          '0'.repeat(16),
          '00000000',
          '00000000',
          '00',
        ].join(''),
    );
    expect(hex(encodeMessageFrame(heartbeat, FrameType.SnapshotBegin)).slice(8, 18)).to.equal('fc69b3c904');
    expect(hex(encodeHelloFrame({ version: PROTOCOL_VERSION, kind: ConnectionKind.Messages, clusterId: 'c1', from: 'a', to: 'b' }))).to.equal(
      '00000016b083c48401' + Buffer.from('CAIRNRFT').toString('hex') + '0002' + '01' + '00026331' + '000161' + '000162',
    );
    expect(hex(encodeWelcomeFrame({ accepted: true, clusterId: 'c1', memberId: 'b', reason: '' }))).to.equal('0000000b189b9e350201000263310001620000');
    expect(hex(encodeSnapshotAckFrame({ stored: false, reason: 'disk full' }))).to.equal('0000000dff7011bf070000096469736b2066756c6c');
    expect(hex(encodeProbeFrame(FrameType.Ping, 123456789))).to.equal('00000009b36602b60800000000075bcd15');
    expect(hex(encodeSnapshotEndFrame())).to.equal('000000013b614ab806');
    expect(hex(encodeRawFrame(FrameType.SnapshotChunk, Uint8Array.from([1, 2, 3])))).to.equal('00000004bc67762105010203');
  });

  it('carries every message whole in a Message frame, in the core’s encoding', () => {
    for (const m of samples) {
      const [frame] = frames([encodeMessageFrame(m)]);
      expect(frame!.type).to.equal(FrameType.Message);
      expect(comparable(decodeMessage(frame!.payload))).to.deep.equal(comparable(m));
    }
    const [probe] = frames([encodeProbeFrame(FrameType.Pong, 2 ** 40)]);
    expect([probe!.type, decodeProbe(probe!.payload)]).to.deep.equal([FrameType.Pong, 2 ** 40]);
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
