import { expect } from 'chai';
import { FrameReader } from '../../src/authority/frame-reader.js';
import { HeaderBlockAssembler } from '../../src/authority/header-block-assembler.js';
import { headerBlockFrames } from '../../src/authority/header-block-frames.js';
import { FrameFlag, FrameType, Http2ConnectionError, readFrameHeader, type FrameHeader } from '../../src/authority/http2-frame.js';
import { dataFrame, framesIn, headersFrame, headersWithContinuations, pingFrame, preface, settingsAck, settingsFrame } from './h2-bytes.js';

interface Seen {
  readonly kept: { type: number; offset: number; payload: string }[];
  passed: Buffer;
}

function readAll(stream: Buffer, cuts: number[], keep: (h: FrameHeader) => boolean, leadingBytes = 0): Seen {
  const seen: Seen = { kept: [], passed: Buffer.alloc(0) };
  const reader = new FrameReader(
    keep,
    {
      frame: (header, payload, offset) => seen.kept.push({ type: header.type, offset, payload: payload.toString('hex') }),
      passthrough: (bytes) => (seen.passed = Buffer.concat([seen.passed, bytes])),
    },
    { leadingBytes },
  );
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    reader.push(stream.subarray(from, cut));
    from = cut;
  }
  expect(reader.position).to.equal(stream.length);
  return seen;
}

describe('authority repair: HTTP/2 frames', () => {
  describe('FrameReader', () => {
    const data = dataFrame(1, Buffer.from('payload of a data frame'));
    const stream = Buffer.concat([preface(), settingsFrame({ 4: 65535 }), data, settingsAck(), pingFrame(), headersFrame(1, Buffer.from('abc'))]);
    const keep = (h: FrameHeader): boolean => h.type === FrameType.SETTINGS || h.type === FrameType.HEADERS;
    const expectedKept = [
      { type: FrameType.SETTINGS, offset: 24, payload: '00040000ffff' },
      { type: FrameType.SETTINGS, offset: 24 + 15 + data.length, payload: '' },
      { type: FrameType.HEADERS, offset: 24 + 15 + data.length + 9 + 17, payload: '616263' },
    ];
    const expectedPassed = Buffer.concat([preface(), data, pingFrame()]);

    it('keeps the frames asked for whole, with their offsets, and passes the rest through in order', () => {
      const seen = readAll(stream, [], keep, 24);
      expect(seen.kept).to.deep.equal(expectedKept);
      expect(seen.passed).to.deep.equal(expectedPassed);
    });

    it('gives the same result for the stream cut at any one point and byte by byte', () => {
      for (let cut = 1; cut < stream.length; cut++) {
        const seen = readAll(stream, [cut], keep, 24);
        expect(seen.kept, `cut at ${cut}`).to.deep.equal(expectedKept);
        expect(seen.passed, `cut at ${cut}`).to.deep.equal(expectedPassed);
      }
      const bytewise = readAll(
        stream,
        Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
        keep,
        24,
      );
      expect(bytewise.kept).to.deep.equal(expectedKept);
      expect(bytewise.passed).to.deep.equal(expectedPassed);
    });

    it('says whether it holds bytes back: a cut frame header or a kept frame in progress', () => {
      const reader = new FrameReader(keep, { frame: () => {}, passthrough: () => {} });
      expect(reader.state).to.equal('boundary');
      reader.push(data.subarray(0, 4));
      expect(reader.state).to.equal('holding');
      reader.push(data.subarray(4, 12));
      expect(reader.state).to.equal('passing');
      reader.push(data.subarray(12));
      expect(reader.state).to.equal('boundary');
      reader.push(settingsFrame({ 1: 0 }).subarray(0, 12));
      expect(reader.state).to.equal('holding');
    });

    it('refuses to keep a frame larger than 16 KiB', () => {
      const big = Buffer.alloc(9);
      big.writeUIntBE(16_385, 0, 3);
      big[3] = FrameType.HEADERS;
      const reader = new FrameReader(keep, { frame: () => {}, passthrough: () => {} });
      expect(() => reader.push(big)).to.throw(Http2ConnectionError, /16385 bytes/);
    });
  });

  describe('headerBlockFrames', () => {
    it('writes a small block as one HEADERS frame with END_HEADERS and END_STREAM as asked', () => {
      const frames = framesIn(headerBlockFrames({ streamId: 3, endStream: true }, Buffer.from('block')));
      expect(frames).to.have.length(1);
      expect(frames[0]!.header).to.deep.equal({ length: 5, type: FrameType.HEADERS, flags: FrameFlag.END_HEADERS | FrameFlag.END_STREAM, streamId: 3 });
    });

    it('splits a block larger than 16 KiB into HEADERS and CONTINUATION frames of at most 16 KiB, END_HEADERS on the last only', () => {
      const block = Buffer.alloc(40_000);
      for (let i = 0; i < block.length; i++) block[i] = i % 251;
      const frames = framesIn(headerBlockFrames({ streamId: 5, endStream: false }, block));
      expect(frames.map((f) => [f.header.type, f.header.length, f.header.flags, f.header.streamId])).to.deep.equal([
        [FrameType.HEADERS, 16_384, 0, 5],
        [FrameType.CONTINUATION, 16_384, 0, 5],
        [FrameType.CONTINUATION, 40_000 - 2 * 16_384, FrameFlag.END_HEADERS, 5],
      ]);
      expect(Buffer.concat(frames.map((f) => f.payload))).to.deep.equal(block);
    });

    it('splits exactly at 16 KiB: a 16 KiB block is one frame, one byte more is two', () => {
      expect(framesIn(headerBlockFrames({ streamId: 1, endStream: false }, Buffer.alloc(16_384))).map((f) => f.header.type)).to.deep.equal([FrameType.HEADERS]);
      expect(framesIn(headerBlockFrames({ streamId: 1, endStream: false }, Buffer.alloc(16_385))).map((f) => [f.header.type, f.header.length])).to.deep.equal([
        [FrameType.HEADERS, 16_384],
        [FrameType.CONTINUATION, 1],
      ]);
    });

    it('keeps the priority fields on the HEADERS frame, counting them in its 16 KiB', () => {
      const priority = Buffer.from([0x80, 0, 0, 1, 200]);
      const frames = framesIn(headerBlockFrames({ streamId: 7, endStream: true, priority }, Buffer.alloc(20_000, 1)));
      expect(frames[0]!.header.flags).to.equal(FrameFlag.PRIORITY | FrameFlag.END_STREAM);
      expect(frames[0]!.header.length).to.equal(16_384);
      expect(frames[0]!.payload.subarray(0, 5)).to.deep.equal(priority);
      expect(frames[1]!.header).to.deep.equal({ length: 20_000 - (16_384 - 5), type: FrameType.CONTINUATION, flags: FrameFlag.END_HEADERS, streamId: 7 });
    });
  });

  describe('HeaderBlockAssembler', () => {
    const feed = (assembler: HeaderBlockAssembler, bytes: Buffer): ReturnType<HeaderBlockAssembler['frame']>[] =>
      framesIn(bytes).map((f) => assembler.frame(f.header, f.payload));

    it('takes padding and priority off a HEADERS frame', () => {
      const priority = Buffer.from([0, 0, 0, 3, 15]);
      const [block] = feed(new HeaderBlockAssembler(), headersFrame(9, Buffer.from('fragment'), { padLength: 6, priority, endStream: true }));
      expect(block).to.deep.equal({ streamId: 9, endStream: true, priority, fragment: Buffer.from('fragment') });
    });

    it('joins HEADERS and CONTINUATION frames into one block', () => {
      const assembler = new HeaderBlockAssembler();
      const results = feed(assembler, headersWithContinuations(1, Buffer.from('0123456789'), 4));
      expect(results.slice(0, 2)).to.deep.equal([undefined, undefined]);
      expect(results[2]!.fragment.toString()).to.equal('0123456789');
      expect(assembler.isOpen).to.equal(false);
    });

    it('refuses any frame between HEADERS and its last CONTINUATION, and a CONTINUATION of another stream', () => {
      const open = headersWithContinuations(1, Buffer.from('0123456789'), 4).subarray(0, 9 + 4);
      const a = new HeaderBlockAssembler();
      feed(a, open);
      expect(() => feed(a, pingFrame())).to.throw(Http2ConnectionError, /inside a header block/);
      const b = new HeaderBlockAssembler();
      feed(b, open);
      const other = headersWithContinuations(3, Buffer.from('0123456789'), 4);
      const continuation = other.subarray(13, 13 + 9 + 4);
      expect(readFrameHeader(continuation).type).to.equal(FrameType.CONTINUATION);
      expect(() => feed(b, continuation)).to.throw(Http2ConnectionError, /without its HEADERS/);
    });

    it('refuses padding longer than the frame', () => {
      const frame = headersFrame(1, Buffer.from('x'), { padLength: 1 });
      frame[9] = 200;
      expect(() => feed(new HeaderBlockAssembler(), frame)).to.throw(Http2ConnectionError, /padding/);
    });
  });
});
