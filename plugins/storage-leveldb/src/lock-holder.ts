import { readFile, stat } from 'node:fs/promises';

/**
 * The PID of the process holding a POSIX lock on `lockFile` (LevelDB's LOCK), from Linux's
 * /proc/locks; undefined when none does or the system does not say. Lets the file checks that run
 * before LevelDB opens tell "in use" from "damaged": a database another process is writing can
 * look torn to a reader that ignores its lock.
 */
export async function lockHolder(lockFile: string): Promise<number | undefined> {
  let inode: bigint;
  let locks: string;
  try {
    inode = (await stat(lockFile, { bigint: true })).ino;
    locks = await readFile('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  // "1: POSIX  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF" (a "->" marks a waiter, not a holder)
  for (const line of locks.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === '->' || fields.length < 6) continue;
    const [pid, device] = [fields[4], fields[5]];
    if (device?.split(':')[2] === inode.toString()) return Number(pid);
  }
  return undefined;
}
