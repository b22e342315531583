/** A key or value: strings are UTF-8. */
export type Bytes = string | Uint8Array;

export function toBuffer(bytes: Bytes): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The range end that covers every key starting with `prefix`: the prefix with its last byte that
 * is not 0xff incremented and the rest dropped; `\0` (all keys from `prefix` on) when every byte is 0xff.
 */
export function prefixEnd(prefix: Bytes): Buffer {
  const bytes = Buffer.from(toBuffer(prefix));
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i] = bytes[i]! + 1;
      return bytes.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The range end for a key with `end` or `prefix` options; undefined for the key alone. */
export function rangeEndOf(key: Bytes, options: { end?: Bytes; prefix?: boolean }): Buffer | undefined {
  if (options.end !== undefined) return toBuffer(options.end);
  if (options.prefix === true) return prefixEnd(key);
  return undefined;
}

/**
 * `request` with `range_end` only when there is an end. The field must be left out for a single
 * key: protobufjs encodes an empty bytes field that is present, Go decodes it as a non-nil empty
 * slice, and etcd reads that as "every key from `key` on". The wire types describe messages as
 * received (absent bytes read as empty), hence the one cast.
 */
export function withRangeEnd<T extends { range_end: Buffer }>(request: Omit<T, 'range_end'>, rangeEnd: Buffer | undefined): T {
  return (rangeEnd === undefined ? request : { ...request, range_end: rangeEnd }) as T;
}
