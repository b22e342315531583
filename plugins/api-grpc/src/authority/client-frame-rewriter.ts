import { HeaderBlockAssembler, type HeaderBlock } from './header-block-assembler.js';
import { headerBlockFrames } from './header-block-frames.js';
import { repairAuthority } from './header-block-repair.js';
import { HpackDecoder, type HeaderField } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { HpackError } from './hpack-error.js';
import {
  CLIENT_PREFACE,
  ErrorCode,
  FrameFlag,
  FrameType,
  Http2ConnectionError,
  frameBytes,
  isHeaderBlockOrSettingsFrame,
  type FrameHeader,
} from './http2-frame.js';
import { FrameReader } from './frame-reader.js';
import type { SettingsAckLedger } from './settings-ack-ledger.js';

/**
 * The client-to-server half of a repaired connection, as a byte transform: the preface and every
 * frame pass unchanged except that each header block is decoded (keeping the client's HPACK
 * state), its rejected authorities replaced, and re-encoded without indexing, and that the one ACK
 * of the listener's early SETTINGS is dropped. Re-encoding every block, not only the repaired
 * ones, keeps the server's HPACK table empty and so in step with what it is sent.
 */
export class ClientFrameRewriter {
  private readonly reader: FrameReader;
  private readonly blocks = new HeaderBlockAssembler();
  private readonly decoder = new HpackDecoder();
  private out: Buffer[] = [];
  private highestStreamId = 0;

  constructor(
    private readonly replacement: string,
    private readonly ledger: SettingsAckLedger,
  ) {
    this.reader = new FrameReader(
      (header) => this.blocks.isOpen || isHeaderBlockOrSettingsFrame(header),
      {
        frame: (header, payload) => this.frame(header, payload),
        passthrough: (bytes) => this.out.push(bytes),
      },
      { leadingBytes: CLIENT_PREFACE.length },
    );
  }

  /** The highest stream the client opened, for a GOAWAY. */
  get lastStreamId(): number {
    return this.highestStreamId;
  }

  /** What the server gets for these client bytes. Throws Http2ConnectionError on a broken frame or header block. */
  push(chunk: Buffer): Buffer[] {
    this.reader.push(chunk);
    const out = this.out;
    this.out = [];
    return out;
  }

  private frame(header: FrameHeader, payload: Buffer): void {
    if (header.type === FrameType.SETTINGS && !this.blocks.isOpen) {
      if (header.flags & FrameFlag.ACK) {
        const ack = this.ledger.clientAcknowledged();
        if (ack.headerTableSize !== undefined) this.decoder.setLimit(ack.headerTableSize);
        if (!ack.forward) return;
      }
      this.out.push(frameBytes(header, payload));
      return;
    }
    const block = this.blocks.frame(header, payload);
    if (block !== undefined) this.out.push(this.rewrite(block));
  }

  private rewrite(block: HeaderBlock): Buffer {
    this.highestStreamId = Math.max(this.highestStreamId, block.streamId);
    let fields: HeaderField[];
    try {
      fields = this.decoder.decode(block.fragment);
    } catch (err) {
      if (err instanceof HpackError) throw new Http2ConnectionError(ErrorCode.COMPRESSION_ERROR, err.message);
      throw err;
    }
    return headerBlockFrames(block, encodeHeaderBlock(repairAuthority(fields, this.replacement)));
  }
}
