import { closeSync, fsyncSync, openSync, renameSync, rmSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Written beside data.mdb when the environment closed cleanly; taken (deleted) at the next open. */
const RECORD = 'clean-close.json';

/** The data file as the clean close left it: any later write changes its modification time (and usually its size). */
interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
}

function identityOf(dataFile: string): FileIdentity | undefined {
  try {
    const s = statSync(dataFile, { bigint: true });
    return { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs) };
  } catch {
    return undefined;
  }
}

/**
 * Notes that this plugin closed `dataFile` with every write on disk. The walk of the file at the
 * next open (lmdb-verifier.ts) costs a child process and a read of every page, growing with the
 * data; a file nobody touched since a clean close cannot have been torn by this process, so the
 * next open may skip it. After a crash there is no record, and the file is walked. Failing to
 * write the record never fails the close: the data is already on disk.
 */
export function recordCleanClose(directory: string, dataFile: string): void {
  const identity = identityOf(dataFile);
  if (identity === undefined) return;
  const path = join(directory, RECORD);
  const temporary = `${path}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(identity));
    const fd = openSync(temporary, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch {
    // Only an optimisation: without the record (a full disk, say) the next open walks the file.
    rmSync(temporary, { force: true });
  }
}

/**
 * True when `dataFile` is exactly as the last clean close left it (same file, size and
 * modification time). The record is deleted either way: from here on the file is written again.
 */
export function takeCleanClose(directory: string, dataFile: string): boolean {
  const path = join(directory, RECORD);
  let recorded: Partial<FileIdentity>;
  try {
    recorded = JSON.parse(readFileSync(path, 'utf8')) as Partial<FileIdentity>;
  } catch {
    return false; // none (a first open, or the last run crashed), or unreadable: walk the file
  } finally {
    rmSync(path, { force: true });
    rmSync(`${path}.tmp`, { force: true });
  }
  const now = identityOf(dataFile);
  return now !== undefined && now.dev === recorded.dev && now.ino === recorded.ino && now.size === recorded.size && now.mtimeNs === recorded.mtimeNs;
}
