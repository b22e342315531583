/**
 * The driver's wrapper around a proposal's payload: who proposed it (member, incarnation) and a
 * sequence number, so that the proposer — and only it — can hand the apply result back to the
 * waiting caller, even when a follower's proposal was forwarded to the leader.
 *
 * Layout: version (1 byte) | member id length (1) | member id (UTF-8) | incarnation (u32 BE) |
 * sequence (u32 BE) | payload.
 */
export interface ProposalEnvelope {
  readonly member: string;
  /** Drawn at each start, so a request id is never reused across restarts. */
  readonly incarnation: number;
  readonly sequence: number;
  readonly payload: Uint8Array;
}

const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(envelope: ProposalEnvelope): Uint8Array {
  const id = encoder.encode(envelope.member);
  if (id.length > 255) throw new RangeError('member id longer than 255 bytes');
  const out = new Uint8Array(2 + id.length + 8 + envelope.payload.length);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = id.length;
  out.set(id, 2);
  view.setUint32(2 + id.length, envelope.incarnation >>> 0);
  view.setUint32(6 + id.length, envelope.sequence >>> 0);
  out.set(envelope.payload, 10 + id.length);
  return out;
}

/** The envelope inside a Normal entry's data; throws on data the driver did not write. */
export function decodeEnvelope(data: Uint8Array): ProposalEnvelope {
  if (data.length < 10 || data[0] !== VERSION || data.length < 10 + data[1]!) {
    throw new Error(`entry data is not a proposal envelope (length ${data.length}, version ${data[0]})`);
  }
  const idLength = data[1]!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    member: decoder.decode(data.subarray(2, 2 + idLength)),
    incarnation: view.getUint32(2 + idLength),
    sequence: view.getUint32(6 + idLength),
    payload: data.subarray(10 + idLength),
  };
}
