import type { KvCommand } from './kv-command-type.js';

/*
 * The first encoding of committed commands: JSON, with bytes as {"$b": base64} and bigints as
 * {"$n": decimal}. No longer written by members; still read, since logs, WALs and snapshots of
 * existing data dirs hold entries in it. Such an entry begins with `{`.
 */

/** The first byte of every JSON-encoded command. */
export const JSON_COMMAND_MARK = 0x7b;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function toJson(value: unknown): Json {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value as Json;
}

/** Kept to write old-format entries in tests (and for tools that must produce them). */
export function encodeJsonKvCommand(command: KvCommand): Uint8Array {
  return Buffer.from(JSON.stringify(toJson(command)), 'utf8');
}

export function decodeJsonKvCommand(bytes: Uint8Array): KvCommand {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const tagged = value as { $b?: unknown; $n?: unknown };
      if (typeof tagged.$b === 'string') return new Uint8Array(Buffer.from(tagged.$b, 'base64'));
      if (typeof tagged.$n === 'string') return BigInt(tagged.$n);
    }
    return value;
  }) as KvCommand;
}
