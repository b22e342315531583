import assert from 'node:assert/strict';
import { decodeRaftMessage, encodeRaftMessage, WireError } from '@cairn/core';
import { comparable, largeAppend, richMessages } from '@cairn/core/testkit';
import { decodeEnvelope, EnvelopeKind, type EnvelopeHeader } from '../src/envelope.js';
import { FragmentAssembler } from '../src/fragment-assembler.js';
import { encodeBatch, encodeFragment, readBatch, readFragment } from '../src/message-batch.js';
import {
  encodeSnapshotAck,
  encodeSnapshotBegin,
  encodeSnapshotChunk,
  encodeSnapshotEnd,
  readSnapshotAck,
  readSnapshotBegin,
  readSnapshotChunk,
  readSnapshotEnd,
  SnapshotVerdict,
} from '../src/snapshot-wire.js';

const header: EnvelopeHeader = { clusterId: 'c0ffee0000000001', from: '000000000000000a', to: '000000000000000b', incarnation: 0xdeadbeef };

describe('the NATS transport wire format', () => {
  it('carries every field of every message through a batch envelope', () => {
    const messages = [...richMessages(header.from, header.to, [header.from, header.to], ['learner-1']), largeAppend(header.from, header.to, 200_000)];
    const envelope = decodeEnvelope(encodeBatch(header, messages.map(encodeRaftMessage)));
    assert.equal(envelope.kind, EnvelopeKind.Messages);
    assert.deepEqual(envelope.header, header);
    assert.deepEqual(readBatch(envelope.body).map(comparable), messages.map(comparable));
  });

  it('refuses what is not a whole, unchanged envelope', () => {
    const good = encodeBatch(header, [encodeRaftMessage(richMessages(header.from, header.to, [], [])[0]!)]);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x40;
    const samples: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['text', new TextEncoder().encode('PUB foo 3\r\nbar\r\n')],
      ['a flipped bit', flipped],
      ['truncated', good.subarray(0, good.length - 10)],
      ['another version', Buffer.concat([good.subarray(0, 2), Buffer.from([9]), good.subarray(3)])],
    ];
    for (const [what, bytes] of samples) {
      assert.throws(
        () => {
          const envelope = decodeEnvelope(bytes);
          readBatch(envelope.body);
        },
        WireError,
        what,
      );
    }
  });

  it('a message in fragments comes back whole; a lost piece drops that message only', () => {
    const big = encodeRaftMessage(largeAppend(header.from, header.to, 300_000));
    const pieces = (messageNumber: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let offset = 0; offset < big.length; offset += 100_000) {
        const piece = big.subarray(offset, Math.min(big.length, offset + 100_000));
        out.push(encodeFragment(header, { messageNumber, totalBytes: big.length, offset, piece }));
      }
      return out;
    };
    const dropped: string[] = [];
    const assembler = new FragmentAssembler(1 << 20, (_sender, reason) => dropped.push(reason));
    const feed = (envelope: Uint8Array): Uint8Array | undefined => {
      const decoded = decodeEnvelope(envelope);
      return assembler.add(decoded.header.from, decoded.header.incarnation, readFragment(decoded.body));
    };
    const first = pieces(1);
    assert.equal(first.length, 4);
    const results = first.map(feed);
    assert.deepEqual(results.slice(0, 3), [undefined, undefined, undefined]);
    assert.deepEqual(comparable(decodeRaftMessage(results[3]!)), comparable(decodeRaftMessage(big)));

    const second = pieces(2);
    feed(second[0]!);
    assert.equal(feed(second[2]!), undefined, 'a gap');
    assert.equal(feed(second[3]!), undefined, 'nothing after the gap either');
    assert.equal(dropped.length, 2);
    const third = pieces(3);
    const last = third.map(feed).at(-1);
    assert.ok(last !== undefined, 'the next message arrives whole');
  });

  it('refuses a fragmented message over maxMessageBytes before allocating it', () => {
    const dropped: string[] = [];
    const assembler = new FragmentAssembler(1024, (_s, reason) => dropped.push(reason));
    assert.equal(assembler.add('a', 1, { messageNumber: 1, totalBytes: 2 ** 31, offset: 0, piece: new Uint8Array(10) }), undefined);
    assert.match(dropped[0]!, /exceeds maxMessageBytes/);
  });

  it('snapshot bodies round-trip', () => {
    const snap = richMessages(header.from, header.to, [header.from], ['l'])[5]!;
    const begin = decodeEnvelope(encodeSnapshotBegin(header, 'tx1', snap));
    assert.deepEqual(comparable(readSnapshotBegin(begin.body).snap), comparable(snap));
    const chunk = readSnapshotChunk(decodeEnvelope(encodeSnapshotChunk(header, 'tx1', 7, Uint8Array.from([1, 2, 3]))).body);
    assert.deepEqual([chunk.transferId, chunk.sequence, [...chunk.bytes]], ['tx1', 7, [1, 2, 3]]);
    const digest = new Uint8Array(32).fill(9);
    const end = readSnapshotEnd(decodeEnvelope(encodeSnapshotEnd(header, { transferId: 'tx1', chunkCount: 8, totalBytes: 2 ** 40, sha256: digest })).body);
    assert.deepEqual(end, { transferId: 'tx1', chunkCount: 8, totalBytes: 2 ** 40, sha256: digest });
    const ack = { transferId: 'tx1', verdict: SnapshotVerdict.Refused, received: 3, consumed: 2, reason: 'disk full' };
    assert.deepEqual(readSnapshotAck(decodeEnvelope(encodeSnapshotAck(header, ack)).body), ack);
  });
});
