/**
 * Bytes on a peer connection that break the wire format (bad checksum, impossible length,
 * truncated field, refused handshake). The connection that carried them is dropped; the
 * process goes on.
 */
export class WireError extends Error {
  override readonly name = 'WireError';
}
