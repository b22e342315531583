import assert from 'node:assert/strict';

/** Asserts that `call` throws or rejects with a RangeError (ports may do either). */
export async function assertRangeError(call: () => unknown, what: string): Promise<void> {
  let error: unknown;
  try {
    await call();
  } catch (err) {
    error = err;
  }
  assert.ok(error !== undefined, `${what}: expected a RangeError, but it succeeded`);
  assert.ok(error instanceof RangeError, `${what}: expected a RangeError, got ${String(error)}`);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
