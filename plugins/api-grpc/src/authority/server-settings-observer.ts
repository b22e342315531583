import { FrameReader } from './frame-reader.js';
import { FrameFlag, FrameType, readSettings } from './http2-frame.js';
import type { SettingsAckLedger } from './settings-ack-ledger.js';

/**
 * Watches the server-to-client half of a repaired connection for the server's SETTINGS frames, so
 * the ledger knows what each client ACK answers (a new SETTINGS_HEADER_TABLE_SIZE binds the
 * client's encoder once acknowledged). It only reads: the bytes go to the client unchanged.
 */
export class ServerSettingsObserver {
  private readonly reader: FrameReader;

  constructor(ledger: SettingsAckLedger) {
    this.reader = new FrameReader((header) => header.type === FrameType.SETTINGS && (header.flags & FrameFlag.ACK) === 0, {
      frame: (_header, payload) => ledger.serverSent(readSettings(payload)),
      passthrough: () => {},
    });
  }

  /** Bytes the server writes to the client, in order. Throws Http2ConnectionError on a malformed SETTINGS frame. */
  observe(chunk: Buffer): void {
    this.reader.push(chunk);
  }
}
