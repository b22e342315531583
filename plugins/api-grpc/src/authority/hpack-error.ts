/** A header block that cannot be decoded: a connection error of type COMPRESSION_ERROR (RFC 7541 §2.3.4). */
export class HpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}
