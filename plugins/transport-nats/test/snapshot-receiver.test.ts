import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { message, RecordingHandler, waitUntil } from '@cairn/core/testkit';
import { MessageType } from '@cairn/core';
import { decodeEnvelope, type EnvelopeHeader } from '../src/envelope.js';
import type { NatsClient } from '../src/nats-client.js';
import { NatsTransportStats } from '../src/nats-transport-stats.js';
import { SnapshotReceiver } from '../src/snapshot-receiver.js';
import { readSnapshotAck, SnapshotVerdict, type SnapshotAck } from '../src/snapshot-wire.js';

const SENDER = '000000000000000a';
const SELF = '000000000000000b';
const header: EnvelopeHeader = { clusterId: 'c1', from: SENDER, to: SELF, incarnation: 1 };
const snap = message(MessageType.Snap, SENDER, SELF, { snapshot: { index: 9, term: 2, confState: { voters: [SENDER, SELF], learners: [] } } });
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/** A receiver whose acks land in `acks` instead of on NATS. */
function receiverFor(handler: RecordingHandler): { receiver: SnapshotReceiver; acks: SnapshotAck[] } {
  const acks: SnapshotAck[] = [];
  const client = {
    publish: (_subject: string, data: Uint8Array) => acks.push(readSnapshotAck(decodeEnvelope(data).body)),
  } as unknown as NatsClient;
  const receiver = new SnapshotReceiver({
    handler: () => handler,
    client: () => client,
    header: (to) => ({ clusterId: 'c1', from: SELF, to, incarnation: 2 }),
    keepaliveMs: 60_000,
    idleTimeoutMs: 60_000,
    stats: new NatsTransportStats(),
    logger: silent,
  });
  return { receiver, acks };
}

const chunks = [Uint8Array.from([1, 2, 3]), Uint8Array.from([4, 5]), Uint8Array.from([6])];
const digestOf = (parts: readonly Uint8Array[]): Uint8Array => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
};

describe('SnapshotReceiver', () => {
  it('hands in-order chunks to the store, asks for a resend at a gap, and stores on a matching checksum', async () => {
    const handler = new RecordingHandler();
    const got: number[] = [];
    handler.receiveSnapshot = async (_m, data) => {
      for await (const chunk of data) got.push(...chunk);
    };
    const { receiver, acks } = receiverFor(handler);
    receiver.begin(header, 't1', snap, '_INBOX.x');
    receiver.chunk(header, 't1', 0, chunks[0]!, '_INBOX.x');
    receiver.chunk(header, 't1', 2, chunks[2]!, '_INBOX.x');
    assert.equal(acks.at(-1)?.verdict, SnapshotVerdict.Resend);
    assert.equal(acks.at(-1)?.received, 1);
    receiver.chunk(header, 't1', 1, chunks[1]!, '_INBOX.x');
    receiver.chunk(header, 't1', 2, chunks[2]!, '_INBOX.x');
    receiver.end(header, { transferId: 't1', chunkCount: 3, totalBytes: 6, sha256: digestOf(chunks) }, '_INBOX.x');
    await waitUntil(() => acks.some((a) => a.verdict === SnapshotVerdict.Stored), 'the stored verdict');
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    // A sender that missed the verdict hears it again.
    receiver.end(header, { transferId: 't1', chunkCount: 3, totalBytes: 6, sha256: digestOf(chunks) }, '_INBOX.x');
    assert.equal(acks.at(-1)?.verdict, SnapshotVerdict.Stored);
    receiver.stop();
  });

  it('fails the stream when the checksum does not match, and refuses the snapshot', async () => {
    const handler = new RecordingHandler();
    const { receiver, acks } = receiverFor(handler);
    receiver.begin(header, 't2', snap, '_INBOX.y');
    for (const [i, chunk] of chunks.entries()) receiver.chunk(header, 't2', i, chunk, '_INBOX.y');
    receiver.end(header, { transferId: 't2', chunkCount: 3, totalBytes: 6, sha256: new Uint8Array(32) }, '_INBOX.y');
    await waitUntil(() => acks.some((a) => a.verdict === SnapshotVerdict.Refused), 'the refusal');
    assert.match(acks.find((a) => a.verdict === SnapshotVerdict.Refused)!.reason, /snapshot stream from 000000000000000a is corrupt/);
    receiver.stop();
  });

  it('tells the sender of a transfer it does not know to stop', () => {
    const { receiver, acks } = receiverFor(new RecordingHandler());
    receiver.chunk(header, 'never-began', 5, chunks[0]!, '_INBOX.z');
    assert.deepEqual(
      acks.map((a) => [a.verdict, a.reason]),
      [[SnapshotVerdict.Refused, 'unknown snapshot transfer']],
    );
    receiver.stop();
  });
});
