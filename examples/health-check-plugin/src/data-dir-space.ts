import { statfs } from 'node:fs/promises';

/** What the plugin was told: the member's data dir (from the plugin context) and its validated options. */
export interface DataDirSpaceOptions {
  readonly dataDir: string;
  /** Below this many free bytes the member reports itself unhealthy. */
  readonly minFreeBytes: number;
}

export const DATA_DIR_SPACE_OPTIONS = Symbol.for('cairn-example.data-dir-health.options');

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
