import { SettingId } from './http2-frame.js';

interface SentSettings {
  /** Sent by the listener before the server took the connection: the server never sees its ACK. */
  readonly early: boolean;
  readonly headerTableSize: number | undefined;
}

export interface Acknowledgement {
  /** Whether the server should see this ACK: not the one that answers the listener's early SETTINGS. */
  readonly forward: boolean;
  /** SETTINGS_HEADER_TABLE_SIZE of the SETTINGS acknowledged, if it set one: in force for the client's encoder from now on. */
  readonly headerTableSize: number | undefined;
}

/**
 * Matches the client's SETTINGS ACKs to the server-side SETTINGS they answer, in order (RFC 9113
 * §6.5.3). The listener sends one SETTINGS frame before the server gets the connection (clients
 * such as grpc-go send no request before they see one); the server then sends its own. The client
 * acknowledges both, so exactly one ACK — the first — must be kept from the server, which would
 * otherwise see an ACK for SETTINGS it never sent.
 */
export class SettingsAckLedger {
  private readonly unacknowledged: SentSettings[];

  constructor(earlySettings: ReadonlyMap<number, number>) {
    this.unacknowledged = [{ early: true, headerTableSize: earlySettings.get(SettingId.HEADER_TABLE_SIZE) }];
  }

  /** The server sent a SETTINGS frame (not an ACK) to the client. */
  serverSent(settings: ReadonlyMap<number, number>): void {
    this.unacknowledged.push({ early: false, headerTableSize: settings.get(SettingId.HEADER_TABLE_SIZE) });
  }

  /** Whether the ACK of the listener's early SETTINGS is still to come. */
  get earlyAckPending(): boolean {
    return this.unacknowledged[0]?.early === true;
  }

  /** The client sent a SETTINGS ACK: it answers the oldest SETTINGS not yet acknowledged. */
  clientAcknowledged(): Acknowledgement {
    const acknowledged = this.unacknowledged.shift();
    // More ACKs than SETTINGS: the server's to judge (it is a connection error there).
    if (acknowledged === undefined) return { forward: true, headerTableSize: undefined };
    return { forward: !acknowledged.early, headerTableSize: acknowledged.headerTableSize };
  }
}
