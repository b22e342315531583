import { expect } from 'chai';
import { comparable, largeAppend, richMessages } from '../../src/testkit/conformance/transport/sample-messages.js';
import { EntryType, MessageType, type Message } from '../../src/protocol/raft-types.js';
import { decodeRaftMessage, encodeRaftMessage, raftMessageSize } from '../../src/protocol/raft-message-codec.js';
import { WireError } from '../../src/protocol/wire-error.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Every field set, a snapshot included. */
const full: Message = {
  type: MessageType.App,
  from: 'aaaaaaaaaaaaaaaa',
  to: 'bbbbbbbbbbbbbbbb',
  term: 7,
  logTerm: 6,
  index: 2 ** 40 + 5,
  entries: [
    { index: 41, term: 6, type: EntryType.Normal, data: bytes(1, 2, 3) },
    { index: 42, term: 7, type: EntryType.ConfChange, data: new Uint8Array(0) },
  ],
  commit: 40,
  reject: true,
  rejectHint: 39,
  context: bytes(0xde, 0xad),
  snapshot: { index: 30, term: 5, confState: { voters: ['a1', 'b2'], learners: ['c3'] } },
};

/*
 * `full` as @cairn/transport-tcp's protocol version 2 carries it in a Message frame: the bytes may
 * not change without a new protocol version there.
 */
const FULL_HEX = [
  '03', // type: App
  '0010' + '61'.repeat(16), // from
  '0010' + '62'.repeat(16), // to
  '0000000000000007', // term
  '0000000000000006', // logTerm
  '0000010000000005', // index
  '0000000000000028', // commit
  '01', // reject
  '0000000000000027', // rejectHint
  '00000002' + 'dead', // context
  '00000002', // entry count
  '0000000000000029' + '0000000000000006' + '00' + '00000003' + '010203', // index, term, type, data
  '000000000000002a' + '0000000000000007' + '01' + '00000000',
  '01', // has a snapshot
  '000000000000001e' + '0000000000000005', // its index, term
  '0002' + '0002' + '6131' + '0002' + '6232', // voters
  '0001' + '0002' + '6333', // learners
].join('');

describe('the Raft message codec (the peer wire)', () => {
  it('writes the bytes of the TCP transport’s protocol version 2, and reads them back', () => {
    const encoded = encodeRaftMessage(full);
    expect(encoded.toString('hex')).to.equal(FULL_HEX);
    expect(raftMessageSize(full)).to.equal(encoded.byteLength);
    expect(comparable(decodeRaftMessage(Buffer.from(FULL_HEX, 'hex')))).to.deep.equal(comparable(full));
  });

  it('round-trips every field of every kind of message, large appends included', () => {
    for (const m of [...richMessages('0000000000000001', '0000000000000002', ['a', 'b'], ['l']), largeAppend('a', 'b', 300_000)]) {
      const encoded = encodeRaftMessage(m);
      expect(encoded.byteLength).to.equal(raftMessageSize(m));
      expect(comparable(decodeRaftMessage(encoded))).to.deep.equal(comparable(m));
    }
  });

  it('round-trips a message with no snapshot, no entries and non-ASCII member IDs', () => {
    const { snapshot: _omitted, ...plain } = full;
    const m: Message = { ...plain, entries: [], reject: false, from: 'ñ1', to: '節点2', context: new Uint8Array(0) };
    const decoded = decodeRaftMessage(encodeRaftMessage(m));
    expect(decoded).to.not.have.property('snapshot');
    expect(comparable(decoded)).to.deep.equal(comparable(m));
  });

  it('reads a plain Uint8Array that is a view into a larger buffer, and copies what it keeps', () => {
    const encoded = encodeRaftMessage(full);
    const backing = new Uint8Array(encoded.byteLength + 10);
    backing.set(encoded, 5);
    const view = backing.subarray(5, 5 + encoded.byteLength);
    const decoded = decodeRaftMessage(view);
    backing.fill(0);
    expect(comparable(decoded)).to.deep.equal(comparable(full));
  });

  it('refuses truncated and padded bytes, and fields out of range, with a WireError', () => {
    const encoded = encodeRaftMessage(full);
    for (const length of [0, 1, 10, 50, encoded.byteLength - 1]) {
      expect(() => decodeRaftMessage(encoded.subarray(0, length)), `length ${length}`).to.throw(WireError, /truncated/);
    }
    expect(() => decodeRaftMessage(Buffer.concat([encoded, bytes(0)]))).to.throw(WireError, /trailing/);
    const at = (offset: number, value: number): Buffer => {
      const bad = Buffer.from(encoded);
      bad[offset] = value;
      return bad;
    };
    expect(() => decodeRaftMessage(at(0, 200))).to.throw(WireError, /unknown message type 200/);
    // The reject flag follows type (1), from and to (2 + 16 each) and four u64s.
    expect(() => decodeRaftMessage(at(1 + 18 + 18 + 32, 2))).to.throw(WireError, /reject flag 2/);
    const snapshotFlagAt = FULL_HEX.indexOf('01000000000000001e') / 2;
    expect(() => decodeRaftMessage(at(snapshotFlagAt, 7))).to.throw(WireError, /snapshot flag 7/);
  });

  it('refuses an entry count that cannot fit before allocating for it', () => {
    const { snapshot: _omitted, ...plain } = full;
    const encoded = Buffer.from(encodeRaftMessage({ ...plain, entries: [] }));
    // The count sits right before the snapshot flag, the last byte.
    encoded.writeUInt32BE(0xffff_ffff, encoded.byteLength - 5);
    expect(() => decodeRaftMessage(encoded)).to.throw(WireError, /entry count 4294967295/);
  });

  it('refuses integers that would lose precision, both ways', () => {
    const encoded = Buffer.from(encodeRaftMessage(full));
    // term follows type (1) and two strings (2 + 16 each).
    encoded.writeUInt32BE(0x0020_0000, 1 + 18 + 18);
    expect(() => decodeRaftMessage(encoded)).to.throw(WireError, /term exceeds 2\^53/);
    expect(() => encodeRaftMessage({ ...full, term: 1.5 })).to.throw(RangeError);
    expect(() => encodeRaftMessage({ ...full, index: -1 })).to.throw(RangeError);
  });
});
