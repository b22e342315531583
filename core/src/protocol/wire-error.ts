/**
 * Bytes between members that break the peer wire format (a truncated field, an impossible length
 * or value, trailing bytes, a bad checksum or handshake). A transport drops what carried them (a
 * connection, a message) and goes on; nothing else is affected.
 */
export class WireError extends Error {
  override readonly name = 'WireError';
}
