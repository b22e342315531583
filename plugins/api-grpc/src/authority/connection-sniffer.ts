import { FrameReader } from './frame-reader.js';
import { HeaderBlockAssembler } from './header-block-assembler.js';
import { hasRejectedAuthority } from './header-block-repair.js';
import { HpackDecoder } from './hpack-decoder.js';
import { CLIENT_PREFACE, FRAME_HEADER_LENGTH, FrameFlag, FrameType, isHeaderBlockOrSettingsFrame, type FrameHeader } from './http2-frame.js';
import { SettingsAckLedger } from './settings-ack-ledger.js';

/** Bytes read while sniffing before the connection goes to the repairing stream without a verdict. */
export const DEFAULT_MAX_SNIFF_BYTES = 256 * 1024;

/**
 * Where a connection goes. `direct`: the socket straight to the server, `bytes` (what was read, less
 * the ACK of the early SETTINGS) put back in front. `repair`: through the rewriting stream, which
 * reads `bytes` (all that was read) first.
 */
export interface SniffVerdict {
  readonly route: 'direct' | 'repair';
  readonly bytes: Buffer;
  readonly reason: 'authority accepted' | 'authority rejected' | 'broken' | 'sniff limit' | 'timeout';
}

/**
 * Reads the start of an HTTP/2 connection — preface, frames, up to the first complete header
 * block and the client's ACK of the listener's early SETTINGS — and tells whether the server can
 * take it as it is: it can when every header block seen so far has an authority nghttp2 accepts.
 * A connection whose client breaks the protocol also goes direct, so the server answers it as it
 * would any other.
 */
export class ConnectionSniffer {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private readonly reader: FrameReader;
  private readonly blocks = new HeaderBlockAssembler();
  private readonly decoder = new HpackDecoder();
  private readonly ledger: SettingsAckLedger;
  private earlyAckAt: number | undefined;
  private headerBlocks = 0;
  private rejected = false;
  private broken = false;

  constructor(
    earlySettings: ReadonlyMap<number, number>,
    private readonly maxBytes = DEFAULT_MAX_SNIFF_BYTES,
  ) {
    this.ledger = new SettingsAckLedger(earlySettings);
    this.reader = new FrameReader(
      (header) => this.blocks.isOpen || isHeaderBlockOrSettingsFrame(header),
      {
        frame: (header, payload, offset) => this.frame(header, payload, offset),
        passthrough: () => {},
      },
      { leadingBytes: CLIENT_PREFACE.length },
    );
  }

  /** The next bytes from the client; a verdict once there is one (later calls are not expected). */
  push(chunk: Buffer): SniffVerdict | undefined {
    this.chunks.push(chunk);
    this.total += chunk.length;
    if (!this.broken && !this.rejected) {
      try {
        this.reader.push(chunk);
      } catch {
        this.broken = true;
      }
    }
    if (this.rejected) return this.verdict('repair', 'authority rejected');
    if (this.broken) return this.verdict('direct', 'broken');
    const settled = this.headerBlocks > 0 && this.earlyAckAt !== undefined && !this.blocks.isOpen && this.reader.state !== 'holding';
    if (settled) return this.verdict('direct', 'authority accepted');
    if (this.total > this.maxBytes) return this.verdict('repair', 'sniff limit');
    return undefined;
  }

  /** No verdict in time: the repairing stream handles whatever comes. */
  timeout(): SniffVerdict {
    return this.verdict('repair', 'timeout');
  }

  private frame(header: FrameHeader, payload: Buffer, offset: number): void {
    if (header.type === FrameType.SETTINGS && (header.flags & FrameFlag.ACK) !== 0 && !this.blocks.isOpen) {
      if (!this.ledger.clientAcknowledged().forward) this.earlyAckAt = offset;
      return;
    }
    const block = this.blocks.frame(header, payload);
    if (block === undefined) return;
    this.headerBlocks += 1;
    if (hasRejectedAuthority(this.decoder.decode(block.fragment))) this.rejected = true;
  }

  private verdict(route: SniffVerdict['route'], reason: SniffVerdict['reason']): SniffVerdict {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const ack = this.earlyAckAt;
    if (route === 'repair' || ack === undefined) return { route, bytes: all, reason };
    return { route, bytes: Buffer.concat([all.subarray(0, ack), all.subarray(ack + FRAME_HEADER_LENGTH)]), reason };
  }
}
