import { dirname, resolve } from 'node:path';
import { leadingFd, quotedStrings, resultPath, resultValue, type TraceCall } from './strace-trace.js';

/**
 * The rule the fsync-ordering check applies to a syscall trace of a child that runs operations one
 * at a time and writes `ack <n>\n` to stdout after operation n resolved, where every write of
 * operation n's data carries a marker (its tag).
 *
 * For each acknowledgement, the files holding its data are the files under the store directory
 * that received a write containing its tag before the ack. For each such file:
 *   - every write to it that completed before the ack was made durable before the ack: followed by
 *     a successful fsync/fdatasync of that file, or msync(MS_SYNC) of a shared mapping of it (or
 *     sync/syncfs), that started after the write returned and returned before the ack was written;
 *     writes through an fd opened with O_SYNC/O_DSYNC, and pwritev2 with RWF_SYNC/RWF_DSYNC, are
 *     durable when they return. sync_file_range alone is not a sync (it flushes no metadata and no
 *     device cache), so it counts only if an fdatasync follows.
 *   - if the file was renamed after its data was written, the directory it went to was fsynced
 *     after the rename and before the ack.
 * An ack written before any write of its data is a violation (the data was written later). When
 * no write anywhere carries the tag (writes through a shared writable mapping, as LMDB's
 * writemap, or an encoding that hides the bytes), the ack must at least be preceded by a sync of
 * a file in the store that started after the previous ack.
 */
export interface FsyncOrderingRule {
  /** Real path of the store's directory (what strace prints). */
  readonly directory: string;
  /** The child's working directory, for relative paths in rename(2) and unlink(2). */
  readonly cwd: string;
  /** The marker in the data of operation n. */
  tagOf(ack: number): string;
}

export interface FsyncViolation {
  readonly ack: number;
  readonly problem: string;
}

export interface FsyncOrderingAnalysis {
  /** Acknowledgements seen in the trace, in order. */
  readonly acks: readonly number[];
  /** Acks checked against the writes of their data, and acks only checked for a sync since the previous ack. */
  readonly byData: number;
  readonly bySyncOnly: number;
  readonly violations: readonly FsyncViolation[];
  /** Calls the trace holds that hide I/O from it (io_uring). */
  readonly blind: readonly string[];
}

/** A file under the store, followed across renames. */
type FileId = number;

interface WriteEvent {
  readonly file: FileId;
  readonly path: string;
  readonly call: TraceCall;
  readonly durable: boolean;
}
interface SyncEvent {
  readonly file: FileId | 'all';
  readonly call: TraceCall;
}
interface RenameEvent {
  readonly file: FileId;
  readonly to: string;
  readonly call: TraceCall;
}
interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly file: FileId;
}

const WRITE_CALLS = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
const MODIFY_CALLS = new Set(['ftruncate', 'fallocate']);
const OPEN_CALLS = new Set(['open', 'openat', 'creat', 'openat2']);

/** The syscalls the check asks strace for; `?` makes strace ignore names this architecture lacks. */
export const FSYNC_TRACE_SYSCALLS: readonly string[] = [
  '?open',
  'openat',
  '?openat2',
  '?creat',
  'close',
  'write',
  'pwrite64',
  'writev',
  'pwritev',
  '?pwritev2',
  'ftruncate',
  'fallocate',
  'fsync',
  'fdatasync',
  'sync_file_range',
  'msync',
  'mmap',
  'munmap',
  'sync',
  'syncfs',
  '?rename',
  'renameat',
  '?renameat2',
  '?unlink',
  'unlinkat',
  '?io_uring_setup',
];

/** A number strace printed (decimal or 0x hex); undefined when it is anything else. */
const number = (text: string | undefined): bigint | undefined => (text !== undefined && /^(0x[0-9a-f]+|\d+)$/.test(text) ? BigInt(text) : undefined);

const short = (call: TraceCall): string => `line ${call.exit + 1}: ${call.text.length > 160 ? `${call.text.slice(0, 157)}...` : call.text}`;

export function analyseFsyncOrdering(calls: readonly TraceCall[], rule: FsyncOrderingRule): FsyncOrderingAnalysis {
  const inStore = (path: string): boolean => path === rule.directory || path.startsWith(`${rule.directory}/`);
  const ids = new Map<string, FileId>();
  let nextId = 0;
  const idOf = (path: string): FileId => {
    let id = ids.get(path);
    if (id === undefined) ids.set(path, (id = nextId++));
    return id;
  };
  const syncFds = new Set<number>();
  let mappings: Mapping[] = [];
  const writes: WriteEvent[] = [];
  const syncs: SyncEvent[] = [];
  const renames: RenameEvent[] = [];
  const acks: { n: number; call: TraceCall }[] = [];
  const blind: string[] = [];
  const pathAt = (dirArg: string | undefined, name: string): string => {
    if (name.startsWith('/')) return resolve(name);
    const base = dirArg === undefined ? undefined : /<([^>]*)>/.exec(dirArg)?.[1];
    return resolve(base ?? rule.cwd, name);
  };

  for (const call of calls) {
    const ok = resultValue(call.result) !== undefined;
    const fd = leadingFd(call.args);
    if (OPEN_CALLS.has(call.name)) {
      const fdOut = resultValue(call.result);
      if (fdOut === undefined) continue;
      const path = resultPath(call.result);
      if (/\bO_D?SYNC\b/.test(call.args)) syncFds.add(Number(fdOut));
      else syncFds.delete(Number(fdOut));
      if (path !== undefined && inStore(path)) idOf(path);
    } else if (call.name === 'close') {
      if (fd !== undefined) syncFds.delete(fd.fd);
    } else if (WRITE_CALLS.has(call.name)) {
      if (!ok || fd === undefined) continue;
      if (fd.fd === 1) {
        for (const m of call.args.matchAll(/(?:^|\\n|")ack (\d+)\\n/g)) acks.push({ n: Number(m[1]), call });
      } else if (inStore(fd.path)) {
        const durable = syncFds.has(fd.fd) || (call.name === 'pwritev2' && /RWF_D?SYNC/.test(call.args));
        writes.push({ file: idOf(fd.path), path: fd.path, call, durable });
      }
    } else if (MODIFY_CALLS.has(call.name)) {
      if (ok && fd !== undefined && inStore(fd.path)) writes.push({ file: idOf(fd.path), path: fd.path, call, durable: syncFds.has(fd.fd) });
    } else if (call.name === 'fsync' || call.name === 'fdatasync') {
      if (ok && fd !== undefined && inStore(fd.path)) syncs.push({ file: idOf(fd.path), call });
    } else if (call.name === 'sync' || call.name === 'syncfs') {
      if (ok) syncs.push({ file: 'all', call });
    } else if (call.name === 'mmap') {
      const parts = call.args.split(', ');
      const length = number(parts[1]);
      const mapped = parts[4] === undefined ? undefined : leadingFd(parts[4]);
      const start = resultValue(call.result);
      if (start !== undefined && length !== undefined && mapped !== undefined && /MAP_SHARED/.test(parts[3] ?? '') && inStore(mapped.path)) {
        mappings.push({ start, end: start + length, file: idOf(mapped.path) });
      }
    } else if (call.name === 'munmap') {
      const [addr, len] = call.args.split(', ').map(number);
      if (ok && addr !== undefined && len !== undefined) mappings = mappings.filter((m) => m.end <= addr || m.start >= addr + len);
    } else if (call.name === 'msync') {
      const [addr, len, flags] = call.args.split(', ');
      const from = number(addr);
      const size = number(len);
      if (!ok || from === undefined || size === undefined || !/MS_SYNC/.test(flags ?? '')) continue;
      const to = from + size;
      for (const file of new Set(mappings.filter((m) => m.start < to && m.end > from).map((m) => m.file))) syncs.push({ file, call });
    } else if (call.name === 'rename' || call.name === 'renameat' || call.name === 'renameat2') {
      if (!ok) continue;
      const names = quotedStrings(call.args);
      const parts = call.args.split(', ');
      const [from, to] =
        call.name === 'rename' ? [pathAt(undefined, names[0]!), pathAt(undefined, names[1]!)] : [pathAt(parts[0], names[0]!), pathAt(parts[2], names[1]!)];
      if (!inStore(from) && !inStore(to)) continue;
      const id = idOf(from);
      ids.delete(from);
      ids.set(to, id);
      renames.push({ file: id, to, call });
    } else if (call.name === 'unlink' || call.name === 'unlinkat') {
      const names = quotedStrings(call.args);
      if (ok && names[0] !== undefined) ids.delete(call.name === 'unlink' ? pathAt(undefined, names[0]) : pathAt(call.args.split(', ')[0], names[0]));
    } else if (call.name === 'io_uring_setup') {
      if (ok) blind.push(short(call));
    }
  }

  const violations: FsyncViolation[] = [];
  let byData = 0;
  let bySyncOnly = 0;
  const syncedBetween = (file: FileId | undefined, after: number, before: number): SyncEvent | undefined =>
    syncs.find((s) => (file === undefined || s.file === 'all' || s.file === file) && s.call.enter > after && s.call.exit < before);

  acks.forEach(({ n, call: ackCall }, position) => {
    const ackAt = ackCall.enter;
    const tag = rule.tagOf(n);
    const tagged = writes.filter((w) => w.call.args.includes(tag));
    const before = tagged.filter((w) => w.call.exit < ackAt);
    if (before.length === 0) {
      if (tagged.length > 0) {
        violations.push({
          ack: n,
          problem: `ack ${n} (${short(ackCall)}) was written before any write of its data; the first came after it (${short(tagged[0]!.call)})`,
        });
        return;
      }
      bySyncOnly++;
      const previous = position === 0 ? -1 : acks[position - 1]!.call.exit;
      if (syncedBetween(undefined, previous, ackAt) === undefined) {
        violations.push({
          ack: n,
          problem: `ack ${n} (${short(ackCall)}): its data is in no write(2) of the trace, and no file in the store was fsynced, fdatasynced or msynced (MS_SYNC) since the previous ack`,
        });
      }
      return;
    }
    byData++;
    for (const file of new Set(before.map((w) => w.file))) {
      const lastWrite = writes.filter((w) => w.file === file && !w.durable && w.call.exit < ackAt).at(-1);
      if (lastWrite !== undefined && syncedBetween(file, lastWrite.call.exit, ackAt) === undefined) {
        const late = syncs.find((s) => (s.file === file || s.file === 'all') && s.call.enter > lastWrite.call.exit);
        violations.push({
          ack: n,
          problem:
            `ack ${n} (${short(ackCall)}) came before ${lastWrite.path} was synced after its last write (${short(lastWrite.call)})` +
            (late === undefined ? '; it was never synced afterwards' : `; the next sync of it came after the ack (${short(late.call)})`),
        });
        continue;
      }
      const firstData = before.find((w) => w.file === file)!.call.exit;
      for (const rename of renames.filter((r) => r.file === file && r.call.exit > firstData && r.call.exit < ackAt)) {
        const directory = dirname(rename.to);
        const dirId = ids.get(directory) ?? idOf(directory);
        if (syncedBetween(dirId, rename.call.exit, ackAt) === undefined) {
          violations.push({
            ack: n,
            problem: `ack ${n} (${short(ackCall)}) came before ${directory} was fsynced after its data was renamed into it (${short(rename.call)})`,
          });
        }
      }
    }
  });
  return { acks: acks.map((a) => a.n), byData, bySyncOnly, violations, blind };
}
