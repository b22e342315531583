import { expect } from 'chai';
import { ClientFrameRewriter } from '../../src/authority/client-frame-rewriter.js';
import { ConnectionSniffer, type SniffVerdict } from '../../src/authority/connection-sniffer.js';
import { HpackDecoder } from '../../src/authority/hpack-decoder.js';
import { FrameFlag, FrameType, Http2ConnectionError } from '../../src/authority/http2-frame.js';
import { SettingsAckLedger } from '../../src/authority/settings-ack-ledger.js';
import {
  dataFrame,
  framesIn,
  grpcRequestFields,
  headersFrame,
  headersWithContinuations,
  indexingLiteral,
  pingFrame,
  preface,
  settingsAck,
  settingsFrame,
} from './h2-bytes.js';
import { encodeHeaderBlock } from '../../src/authority/hpack-encoder.js';

const NO_SETTINGS = new Map<number, number>();
const GOOD = '127.0.0.1:2379';
const bad = ['http://127.0.0.1:2379', '#initially=[http://127.0.0.1:2379]'];

/** Feeds `chunks` to a new sniffer; the verdict of the chunk that gave one. */
function sniff(chunks: Buffer[], maxBytes?: number): SniffVerdict | undefined {
  const sniffer = new ConnectionSniffer(NO_SETTINGS, maxBytes);
  for (const chunk of chunks) {
    const verdict = sniffer.push(chunk);
    if (verdict !== undefined) return verdict;
  }
  return undefined;
}

const clientStart = (): Buffer => Buffer.concat([preface(), settingsFrame({ 2: 0, 4: 4194304 })]);

describe('authority repair: the sniffer and the ACK accounting', () => {
  describe('ConnectionSniffer', () => {
    it('sends a connection with an accepted authority direct, less exactly the ACK of the early SETTINGS', () => {
      const request = headersFrame(1, grpcRequestFields(GOOD));
      const body = dataFrame(1, Buffer.from([0, 0, 0, 0, 0]));
      const verdict = sniff([Buffer.concat([clientStart(), settingsAck(), request, body])]);
      expect(verdict?.route).to.equal('direct');
      expect(verdict?.reason).to.equal('authority accepted');
      expect(verdict?.bytes).to.deep.equal(Buffer.concat([clientStart(), request, body]));
    });

    it('waits for that ACK when the request comes first (a Node client does not wait for SETTINGS)', () => {
      const request = headersFrame(1, grpcRequestFields(GOOD));
      const sniffer = new ConnectionSniffer(NO_SETTINGS);
      expect(sniffer.push(Buffer.concat([clientStart(), request]))).to.equal(undefined);
      const verdict = sniffer.push(Buffer.concat([settingsAck(), pingFrame()]));
      expect(verdict?.route).to.equal('direct');
      expect(verdict?.bytes).to.deep.equal(Buffer.concat([clientStart(), request, pingFrame()]));
    });

    it('removes only the first ACK; a second one in the same bytes is the server’s', () => {
      const request = headersFrame(1, grpcRequestFields(GOOD));
      const verdict = sniff([Buffer.concat([clientStart(), settingsAck(), request, settingsAck()])]);
      expect(verdict?.bytes).to.deep.equal(Buffer.concat([clientStart(), request, settingsAck()]));
    });

    for (const authority of bad) {
      it(`sends a connection whose first request carries ${authority} to the repair, with every byte read`, () => {
        const all = Buffer.concat([clientStart(), settingsAck(), headersFrame(1, grpcRequestFields(authority))]);
        const verdict = sniff([all]);
        expect(verdict).to.deep.equal({ route: 'repair', bytes: all, reason: 'authority rejected' });
      });
    }

    it('judges a rejected `host` header as nghttp2 does, and every header block read before the verdict', () => {
      const withHost = [...grpcRequestFields(GOOD), { name: 'host', value: 'a b' }];
      expect(sniff([Buffer.concat([clientStart(), settingsAck(), headersFrame(1, withHost)])])?.route).to.equal('repair');
      // Two requests before the ACK: the second's authority counts too.
      const two = Buffer.concat([clientStart(), headersFrame(1, grpcRequestFields(GOOD)), headersFrame(3, grpcRequestFields(bad[0]!)), settingsAck()]);
      expect(sniff([two])?.route).to.equal('repair');
    });

    it('reads authorities through the dynamic table, padding, priority and CONTINUATION frames, whatever the cuts', () => {
      const rest = encodeHeaderBlock(grpcRequestFields(GOOD).filter((f) => f.name !== ':authority'));
      // Request 1 adds `:authority: <good>` to the table (entry 62); request 2 names it by index only.
      const indexesGood = Buffer.concat([rest, indexingLiteral(':authority', GOOD)]);
      const byIndex = Buffer.concat([rest, Buffer.from([0xbe])]);
      // Request 2': a new value under the name of entry 62 (0x0f 0x2f: name index 15 + 47), not indexed.
      const badByName = Buffer.concat([rest, Buffer.from([0x0f, 0x2f, bad[0]!.length]), Buffer.from(bad[0]!)]);
      const priority = Buffer.from([0, 0, 0, 0, 16]);
      const good = Buffer.concat([
        clientStart(),
        settingsAck(),
        headersFrame(1, indexesGood, { padLength: 3, priority }),
        headersWithContinuations(3, byIndex, 5),
      ]);
      for (let cut = 1; cut < good.length; cut++) {
        expect(sniff([good.subarray(0, cut), good.subarray(cut)]), `cut at ${cut}`).to.deep.include({ route: 'direct', reason: 'authority accepted' });
      }
      const badSecond = Buffer.concat([
        clientStart(),
        headersFrame(1, indexesGood, { padLength: 3 }),
        headersWithContinuations(3, badByName, 7),
        settingsAck(),
      ]);
      for (let cut = 1; cut < badSecond.length; cut++) {
        expect(sniff([badSecond.subarray(0, cut), badSecond.subarray(cut)]), `cut at ${cut}`).to.deep.include({
          route: 'repair',
          reason: 'authority rejected',
        });
      }
    });

    it('does not decide inside a header block or a frame header', () => {
      const block = encodeHeaderBlock(grpcRequestFields(GOOD));
      const open = headersWithContinuations(1, block, 10);
      const sniffer = new ConnectionSniffer(NO_SETTINGS);
      expect(sniffer.push(Buffer.concat([clientStart(), settingsAck(), open.subarray(0, open.length - 3)]))).to.equal(undefined);
      expect(sniffer.push(open.subarray(open.length - 3))?.route).to.equal('direct');
    });

    it('sends a connection to the repair when the sniff buffer fills or time runs out before a verdict', () => {
      const noRequest = Buffer.concat([clientStart(), settingsAck(), ...Array.from({ length: 20 }, () => pingFrame())]);
      expect(sniff([noRequest], 200)).to.deep.include({ route: 'repair', reason: 'sniff limit' });
      const sniffer = new ConnectionSniffer(NO_SETTINGS);
      expect(sniffer.push(Buffer.concat([clientStart(), settingsAck()]))).to.equal(undefined);
      expect(sniffer.timeout()).to.deep.equal({ route: 'repair', reason: 'timeout', bytes: Buffer.concat([clientStart(), settingsAck()]) });
    });

    it('sends a client that breaks HTTP/2 or HPACK direct, for the server to answer', () => {
      expect(sniff([Buffer.concat([clientStart(), settingsAck(), headersFrame(1, Buffer.from([0x80]))])])).to.deep.include({
        route: 'direct',
        reason: 'broken',
      });
      const interleaved = Buffer.concat([
        clientStart(),
        headersWithContinuations(1, encodeHeaderBlock(grpcRequestFields(GOOD)), 10).subarray(0, 19),
        pingFrame(),
      ]);
      expect(sniff([interleaved])).to.deep.include({ route: 'direct', reason: 'broken' });
    });
  });

  describe('SettingsAckLedger', () => {
    it('drops the first ACK only, and gives each later ACK the header table size of the SETTINGS it answers', () => {
      const ledger = new SettingsAckLedger(NO_SETTINGS);
      expect(ledger.earlyAckPending).to.equal(true);
      ledger.serverSent(new Map());
      ledger.serverSent(new Map([[1, 1024]]));
      expect(ledger.clientAcknowledged()).to.deep.equal({ forward: false, headerTableSize: undefined });
      expect(ledger.earlyAckPending).to.equal(false);
      expect(ledger.clientAcknowledged()).to.deep.equal({ forward: true, headerTableSize: undefined });
      expect(ledger.clientAcknowledged()).to.deep.equal({ forward: true, headerTableSize: 1024 });
      expect(ledger.clientAcknowledged()).to.deep.equal({ forward: true, headerTableSize: undefined });
    });
  });

  describe('ClientFrameRewriter', () => {
    const replacement = '127.0.0.1:40000';
    const serverDecode = (decoder: HpackDecoder, bytes: Buffer): { names: string[][]; frames: number[] } => {
      const frames = framesIn(bytes);
      const blocks = frames.filter((f) => f.header.type === FrameType.HEADERS).map((f) => decoder.decode(f.payload));
      return { names: blocks.map((b) => b.filter((f) => f.name === ':authority').map((f) => f.value)), frames: frames.map((f) => f.header.type) };
    };

    it('passes the preface and other frames through, drops the early ACK, and rewrites every block with rejected authorities replaced', () => {
      const ledger = new SettingsAckLedger(NO_SETTINGS);
      const rewriter = new ClientFrameRewriter(replacement, ledger);
      const start = clientStart();
      const out1 = Buffer.concat(
        rewriter.push(Buffer.concat([start, headersFrame(1, grpcRequestFields(bad[0]!)), dataFrame(1, Buffer.from('x')), settingsAck()])),
      );
      expect(out1.subarray(0, start.length)).to.deep.equal(start);
      const serverSide = new HpackDecoder();
      const first = serverDecode(serverSide, out1.subarray(start.length));
      expect(first.frames).to.deep.equal([FrameType.HEADERS, FrameType.DATA]);
      expect(first.names).to.deep.equal([[replacement]]);
      // The server's own SETTINGS reach the client; its ACK is forwarded.
      ledger.serverSent(new Map());
      const out2 = Buffer.concat(
        rewriter.push(Buffer.concat([settingsAck(), headersFrame(3, grpcRequestFields(GOOD)), headersFrame(5, grpcRequestFields(bad[1]!))])),
      );
      const second = serverDecode(serverSide, out2);
      expect(second.frames).to.deep.equal([FrameType.SETTINGS, FrameType.HEADERS, FrameType.HEADERS]);
      expect(second.names).to.deep.equal([[GOOD], [replacement]]);
      expect(serverSide.dynamicTable.length, 'the server’s HPACK table stays empty').to.equal(0);
    });

    it('decodes through the client’s dynamic table and never leaves a frame between HEADERS and CONTINUATION', () => {
      const rewriter = new ClientFrameRewriter(replacement, new SettingsAckLedger(NO_SETTINGS));
      const rest = encodeHeaderBlock(grpcRequestFields(GOOD).filter((f) => f.name !== ':authority'));
      const big = { name: 'x-big', value: 'b'.repeat(40_000) };
      const first = Buffer.concat([rest, indexingLiteral(':authority', bad[0]!), encodeHeaderBlock([big])]);
      const second = Buffer.concat([rest, Buffer.from([0xbe]), encodeHeaderBlock([big])]);
      const input = Buffer.concat([preface(), headersWithContinuations(1, first, 9000), pingFrame(), headersWithContinuations(3, second, 16_000)]);
      const parts: Buffer[] = [];
      let from = 0;
      for (const cut of [7, 100, 9001, 30_000, input.length]) {
        parts.push(...rewriter.push(input.subarray(from, cut)));
        from = cut;
      }
      const out = Buffer.concat(parts);
      const frames = framesIn(out.subarray(24));
      expect(frames.map((f) => [f.header.type, f.header.flags & FrameFlag.END_HEADERS])).to.deep.equal([
        [FrameType.HEADERS, 0],
        [FrameType.CONTINUATION, 0],
        [FrameType.CONTINUATION, FrameFlag.END_HEADERS],
        [FrameType.PING, 0],
        [FrameType.HEADERS, 0],
        [FrameType.CONTINUATION, 0],
        [FrameType.CONTINUATION, FrameFlag.END_HEADERS],
      ]);
      const serverSide = new HpackDecoder();
      const blocks = [Buffer.concat(frames.slice(0, 3).map((f) => f.payload)), Buffer.concat(frames.slice(4).map((f) => f.payload))].map((b) =>
        serverSide.decode(b),
      );
      for (const block of blocks) {
        expect(block.find((f) => f.name === ':authority')?.value).to.equal(replacement);
        expect(block.find((f) => f.name === 'x-big')?.value).to.equal(big.value);
      }
    });

    it('honours a SETTINGS_HEADER_TABLE_SIZE change once the client acknowledges it', () => {
      const ledger = new SettingsAckLedger(NO_SETTINGS);
      const rewriter = new ClientFrameRewriter(replacement, ledger);
      rewriter.push(Buffer.concat([preface(), settingsAck()]));
      ledger.serverSent(new Map([[1, 8192]]));
      // 0x3fe13f: a size update to 8192, allowed only after the ACK of the SETTINGS that raised the limit.
      const update = Buffer.concat([Buffer.from([0x3f, 0xe1, 0x3f]), encodeHeaderBlock(grpcRequestFields(GOOD))]);
      const before = new ClientFrameRewriter(replacement, new SettingsAckLedger(NO_SETTINGS));
      before.push(preface());
      expect(() => before.push(headersFrame(1, update))).to.throw(Http2ConnectionError, /above the limit 4096/);
      rewriter.push(settingsAck());
      expect(framesIn(Buffer.concat(rewriter.push(headersFrame(1, update)))).map((f) => f.header.type)).to.deep.equal([FrameType.HEADERS]);
    });

    it('fails a block that breaks HPACK with COMPRESSION_ERROR', () => {
      const rewriter = new ClientFrameRewriter(replacement, new SettingsAckLedger(NO_SETTINGS));
      rewriter.push(preface());
      expect(() => rewriter.push(headersFrame(1, Buffer.from([0xbe]))))
        .to.throw(Http2ConnectionError)
        .with.property('code', 0x9);
    });
  });
});
