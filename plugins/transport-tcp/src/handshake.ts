import { WireError, wireSize, type WireReader, type WireWriter } from '@cairn/core';

/** First bytes of every Hello: a listener that sees anything else is not talking to Cairn. */
export const MAGIC = Buffer.from('CAIRNRFT', 'ascii');
/** Bumped on any incompatible change of the frames or the message encoding (2: Ping and Pong on message connections). */
export const PROTOCOL_VERSION = 2;

/** What a connection is for: the stream of Raft messages, or one snapshot. */
export enum ConnectionKind {
  Messages = 1,
  Snapshot = 2,
}

/** The connector introduces itself; the listener refuses another cluster, version or addressee. */
export interface Hello {
  readonly version: number;
  readonly kind: ConnectionKind;
  readonly clusterId: string;
  /** The sending member. */
  readonly from: string;
  /** The member the sender believes it reached. */
  readonly to: string;
}

/** The listener's answer. */
export interface Welcome {
  readonly accepted: boolean;
  readonly clusterId: string;
  readonly memberId: string;
  /** Why the listener refused; empty when accepted. */
  readonly reason: string;
}

export const helloSize = (h: Hello): number =>
  MAGIC.byteLength + wireSize.u16 + wireSize.u8 + wireSize.string(h.clusterId) + wireSize.string(h.from) + wireSize.string(h.to);

export function writeHello(writer: WireWriter, h: Hello): void {
  for (let i = 0; i < MAGIC.byteLength; i++) writer.u8(MAGIC[i]!);
  writer.u16(h.version);
  writer.u8(h.kind);
  writer.string(h.clusterId);
  writer.string(h.from);
  writer.string(h.to);
}

export function readHello(reader: WireReader): Hello {
  for (let i = 0; i < MAGIC.byteLength; i++) {
    if (reader.u8('magic') !== MAGIC[i]) throw new WireError('bad magic: not a Cairn peer');
  }
  const version = reader.u16('version');
  const kind = reader.u8('connection kind');
  if (ConnectionKind[kind] === undefined) throw new WireError(`unknown connection kind ${kind}`);
  return { version, kind: kind as ConnectionKind, clusterId: reader.string('cluster id'), from: reader.string('from'), to: reader.string('to') };
}

export const welcomeSize = (w: Welcome): number => wireSize.u8 + wireSize.string(w.clusterId) + wireSize.string(w.memberId) + wireSize.string(w.reason);

/** Reasons are for logs; keep them well under the u16 string limit. */
export const shortReason = (reason: string): string => (reason.length > 1000 ? `${reason.slice(0, 1000)}…` : reason);

export function writeWelcome(writer: WireWriter, w: Welcome): void {
  writer.u8(w.accepted ? 1 : 0);
  writer.string(w.clusterId);
  writer.string(w.memberId);
  writer.string(w.reason);
}

export function readWelcome(reader: WireReader): Welcome {
  const accepted = reader.u8('accepted') === 1;
  return { accepted, clusterId: reader.string('cluster id'), memberId: reader.string('member id'), reason: reader.string('reason') };
}

/** Why a listener that is `self` in `clusterId` refuses `hello`, or undefined to accept it. */
export function refusalOf(hello: Hello, clusterId: string, self: string): string | undefined {
  if (hello.version !== PROTOCOL_VERSION) return `protocol version ${hello.version} is not supported (this member speaks ${PROTOCOL_VERSION})`;
  if (hello.clusterId !== clusterId)
    return `cluster ID mismatch: member ${hello.from} is in cluster ${hello.clusterId}, this member is in cluster ${clusterId}`;
  if (hello.to !== '' && hello.to !== self) return `member ID mismatch: ${hello.from} wanted member ${hello.to}, this is member ${self}`;
  return undefined;
}

/** The receiver's verdict on a snapshot. */
export interface SnapshotAck {
  readonly stored: boolean;
  readonly reason: string;
}

export const snapshotAckSize = (a: SnapshotAck): number => wireSize.u8 + wireSize.string(a.reason);

export function writeSnapshotAck(writer: WireWriter, a: SnapshotAck): void {
  writer.u8(a.stored ? 1 : 0);
  writer.string(a.reason);
}

export function readSnapshotAck(reader: WireReader): SnapshotAck {
  return { stored: reader.u8('stored') === 1, reason: reader.string('reason') };
}
