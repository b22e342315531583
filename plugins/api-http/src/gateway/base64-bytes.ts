/** A value that is not base64, worded as Go's encoding/base64 words it (etcd's gateway answers with that text). */
export class Base64Error extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
    this.name = 'Base64Error';
  }
}

const STANDARD = /^[A-Za-z0-9+/]$/;
const URL_SAFE = /^[A-Za-z0-9\-_]$/;

/**
 * Bytes from base64 as protobuf's JSON mapping takes them: the standard alphabet (what etcd's
 * gateway reads) or the URL-safe one, padded or not, but never a mix of the two alphabets, stray
 * characters, or a length no encoding produces. Node's own decoder would skip what it does not
 * understand and hand back other bytes than the client meant.
 */
export function decodeBase64(text: string): Buffer {
  let end = text.length;
  while (end > 0 && text[end - 1] === '=' && text.length - end < 2) end--;
  const padding = text.length - end;
  let alphabet: RegExp | undefined;
  for (let i = 0; i < end; i++) {
    const c = text[i]!;
    if (alphabet === undefined) {
      if (c === '+' || c === '/') alphabet = STANDARD;
      else if (c === '-' || c === '_') alphabet = URL_SAFE;
      else if (!STANDARD.test(c)) throw new Base64Error(i);
    } else if (!alphabet.test(c)) {
      throw new Base64Error(i);
    }
  }
  // A final group of one character encodes no byte; padding, when present, completes the last group.
  if (end % 4 === 1) throw new Base64Error(end - 1);
  if (padding > 0 && (end + padding) % 4 !== 0) throw new Base64Error(end);
  return Buffer.from(text.slice(0, end), alphabet === URL_SAFE ? 'base64url' : 'base64');
}

/** Bytes as etcd's gateway writes them: standard base64, padded. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
