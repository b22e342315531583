import type { KvCommand } from './kv-command-type.js';
import { BINARY_COMMAND_V1, decodeBinaryKvCommand, encodeBinaryKvCommand } from './kv-command-binary.js';
import { decodeJsonKvCommand, JSON_COMMAND_MARK } from './kv-command-json.js';

export type { KvCommand } from './kv-command-type.js';

/**
 * The bytes of a command as it goes into the log: binary (kv-command-binary.ts). Entries written
 * before that are JSON (kv-command-json.ts) and are still read: the first byte tells them apart.
 */
export function encodeKvCommand(command: KvCommand): Uint8Array {
  return encodeBinaryKvCommand(command);
}

export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  if (bytes[0] === BINARY_COMMAND_V1) return decodeBinaryKvCommand(bytes);
  if (bytes[0] === JSON_COMMAND_MARK) return decodeJsonKvCommand(bytes);
  throw new Error(`unknown command encoding (first byte ${bytes[0] ?? 'none'} of ${bytes.byteLength})`);
}
