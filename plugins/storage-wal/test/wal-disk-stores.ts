import type { LogStore } from '@cairn/core';
import { createWalLogStore } from '../src/index.js';

/**
 * The conformance kit's disk store module (imported in its child processes too). Segments of
 * 64 KiB, so the kit's workloads roll segments and their compactions delete some; appends of up to
 * 4 entries take the inline path and larger ones the thread pool, so both are exercised.
 */
export const createLogStore = (directory: string): LogStore =>
  createWalLogStore(directory, { segmentBytes: 64 << 10, inlineSyncEntries: 4, cacheBytes: 256 << 10 });
