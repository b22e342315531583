import { connect as connectHttp2 } from 'node:http2';
import { expect } from 'chai';
import { EMPTY_SETTINGS, HTTP2_PREFACE, silentAfter } from '@cairn/core/testkit';
import { startHarness, type Harness } from './harness.js';

/** The acknowledgement of the server's SETTINGS: a client that never answers a PING still completes its handshake. */
const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
/** HTTP/2 frame type of a PING (RFC 9113 §6.7). */
const PING = 6;

/** The frame types in `bytes`, a run of whole HTTP/2 frames (9-byte header: 24-bit length, type, flags, stream). */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) types.push(bytes[at + 3]!);
  return types;
}

describe('gRPC frontend: etcd’s connection flags', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('tells clients --max-concurrent-streams in its HTTP/2 SETTINGS (etcd’s default: 2^32 - 1)', async () => {
    for (const [limit, expected] of [
      [3, 3],
      [undefined, 4294967295],
    ] as const) {
      harness = await startHarness(limit === undefined ? {} : { maxConcurrentStreams: limit });
      const session = connectHttp2(`http://127.0.0.1:${harness.port}`);
      try {
        const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve, reject) => {
          session.once('remoteSettings', resolve);
          session.once('error', reject);
        });
        expect(settings.maxConcurrentStreams, `limit ${String(limit)}`).to.equal(expected);
      } finally {
        session.destroy();
        await harness.close();
        harness = undefined;
      }
    }
  });

  it('pings an idle connection every --grpc-keepalive-interval and closes it when a ping goes unanswered for --grpc-keepalive-timeout', async () => {
    harness = await startHarness({ keepaliveIntervalMs: 300, keepaliveTimeoutMs: 300 });
    const outcome = await silentAfter(harness.port, [HTTP2_PREFACE, EMPTY_SETTINGS, SETTINGS_ACK], 5_000);
    expect(outcome.closedAfterMs, 'closed after a ping went unanswered').to.be.a('number').within(300, 3_000);
    expect(frameTypes(Buffer.from(outcome.answer, 'latin1')), 'the server pinged').to.include(PING);
  });

  it('leaves an idle connection alone with the interval at 0 (etcd: 0 turns pings off)', async () => {
    harness = await startHarness({ keepaliveIntervalMs: 0, keepaliveTimeoutMs: 300 });
    const outcome = await silentAfter(harness.port, [HTTP2_PREFACE, EMPTY_SETTINGS, SETTINGS_ACK], 1_500);
    expect(outcome.closedAfterMs, 'still open when the test gave up').to.equal(undefined);
    expect(frameTypes(Buffer.from(outcome.answer, 'latin1'))).to.not.include(PING);
  });
});
