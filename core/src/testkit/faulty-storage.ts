import { existsSync, readFileSync } from 'node:fs';
import type { Backend, BackendOp, BackendRange, BackendReadView, BackendSize } from '../ports/backend.js';
import type { LogStore } from '../ports/log-store.js';
import type { StableState, StableStore } from '../ports/stable-store.js';
import type { Entry } from '../protocol/raft-types.js';

/** Which durable write a fault hits: the Raft log, the stable state (term, vote, membership) or the MVCC backend. */
export type DiskFaultTarget = 'log' | 'stable' | 'backend';

/**
 * `eio`: the write is made, then its sync fails with EIO, so its durability is unknown (etcd's
 * fatal case); the store fails every later write the same way, as a file whose fsync failed once
 * cannot be trusted again. `enospc`: the write fails with ENOSPC before anything is written.
 * `slow`: each write waits `delayMs` before it is made.
 */
export type DiskFaultKind = 'eio' | 'enospc' | 'slow';

export interface DiskFault {
  readonly target: DiskFaultTarget;
  readonly kind: DiskFaultKind;
  /** For `slow`: milliseconds each write of the target waits. */
  readonly delayMs?: number;
}

/** An error as Node's fs calls raise it (code, errno, syscall), so callers that look at `code` see a real one. */
export function diskError(code: 'EIO' | 'ENOSPC', syscall: string, what: string): NodeJS.ErrnoException {
  const text = code === 'EIO' ? 'i/o error' : 'no space left on device';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} (injected into ${what})`), {
    code,
    errno: code === 'EIO' ? -5 : -28,
    syscall,
  });
}

/**
 * The faults armed for one member's storage, consulted by the Faulty* wrappers before and after each
 * durable write. Armed by a test in the same process (`arm`), or by another process writing the
 * JSON of a DiskFault (or a list of them) to `armFile` (best renamed into place), which is looked
 * for before every write until it is read.
 */
export class DiskFaults {
  private readonly armed = new Map<DiskFaultTarget, DiskFault>();
  /** Targets whose sync failed: every later write fails with this error. */
  private readonly broken = new Map<DiskFaultTarget, NodeJS.ErrnoException>();
  private armFileRead = false;
  /** When set, the backend reports this much space left on its file system (a disk about to fill). */
  availableBytes: number | undefined;
  /** Faults injected so far (failed writes and delayed ones), by target. */
  readonly injected: Record<DiskFaultTarget, number> = { log: 0, stable: 0, backend: 0 };

  constructor(private readonly armFile?: string) {}

  arm(fault: DiskFault): void {
    this.armed.set(fault.target, fault);
  }

  /** Remove the fault on `target` (every target when omitted); a target already broken stays broken. */
  disarm(target?: DiskFaultTarget): void {
    if (target === undefined) this.armed.clear();
    else this.armed.delete(target);
  }

  /** Run one durable write of `target` (`syscall` names it in an injected error) under the armed fault. */
  async around<T>(target: DiskFaultTarget, syscall: string, what: string, write: () => Promise<T>): Promise<T> {
    this.readArmFile();
    const stuck = this.broken.get(target);
    if (stuck !== undefined) {
      this.injected[target]++;
      throw stuck;
    }
    const fault = this.armed.get(target);
    if (fault === undefined) return write();
    this.injected[target]++;
    switch (fault.kind) {
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 100));
        return write();
      case 'enospc':
        throw diskError('ENOSPC', 'write', what);
      case 'eio': {
        await write().catch(() => undefined);
        const error = diskError('EIO', syscall, what);
        this.broken.set(target, error);
        throw error;
      }
    }
  }

  private readArmFile(): void {
    if (this.armFile === undefined || this.armFileRead || !existsSync(this.armFile)) return;
    let parsed: DiskFault | DiskFault[];
    try {
      parsed = JSON.parse(readFileSync(this.armFile, 'utf8')) as DiskFault | DiskFault[];
    } catch {
      return; // caught while being written: read again at the next write
    }
    this.armFileRead = true;
    for (const fault of Array.isArray(parsed) ? parsed : [parsed]) this.arm(fault);
  }
}

const named = new Map<string, DiskFaults>();

/** The DiskFaults registered under `name` in this process (made on first use): how a test reaches the faults of a member it assembled from a config. */
export function diskFaultsNamed(name: string, armFile?: string): DiskFaults {
  let faults = named.get(name);
  if (faults === undefined) {
    faults = new DiskFaults(armFile);
    named.set(name, faults);
  }
  return faults;
}

/** Forget the DiskFaults registered under `name` (the next member of that name starts without faults). */
export function forgetDiskFaults(name: string): void {
  named.delete(name);
}

/** A LogStore whose appends, truncations and compactions go through `faults` (target `log`). */
export class FaultyLogStore implements LogStore {
  constructor(
    private readonly inner: LogStore,
    private readonly faults: DiskFaults,
  ) {}

  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  append(entries: readonly Entry[]): Promise<void> {
    return this.faults.around('log', 'fdatasync', 'the Raft log', () => this.inner.append(entries));
  }
  entries(lo: number, hi: number, maxBytes?: number): Promise<Entry[]> {
    return this.inner.entries(lo, hi, maxBytes);
  }
  term(index: number): Promise<number | undefined> {
    return this.inner.term(index);
  }
  firstIndex(): number {
    return this.inner.firstIndex();
  }
  lastIndex(): number {
    return this.inner.lastIndex();
  }
  truncateFrom(index: number): Promise<void> {
    return this.faults.around('log', 'fdatasync', 'the Raft log', () => this.inner.truncateFrom(index));
  }
  compactTo(index: number, term: number): Promise<void> {
    return this.faults.around('log', 'fdatasync', 'the Raft log', () => this.inner.compactTo(index, term));
  }
}

/** A StableStore whose saves go through `faults` (target `stable`). */
export class FaultyStableStore implements StableStore {
  constructor(
    private readonly inner: StableStore,
    private readonly faults: DiskFaults,
  ) {}

  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  load(): Promise<StableState | undefined> {
    return this.inner.load();
  }
  save(state: StableState): Promise<void> {
    return this.faults.around('stable', 'fsync', 'the stable state', () => this.inner.save(state));
  }
}

/** A Backend whose write batches and flushes go through `faults` (target `backend`); reads pass through. */
export class FaultyBackend implements Backend {
  constructor(
    private readonly inner: Backend,
    private readonly faults: DiskFaults,
  ) {}

  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
  range(range: BackendRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    return this.inner.range(range);
  }
  write(ops: readonly BackendOp[]): Promise<void> {
    return this.faults.around('backend', 'write', 'the backend', () => this.inner.write(ops));
  }
  flush(): Promise<void> {
    return this.faults.around('backend', 'fsync', 'the backend', () => this.inner.flush());
  }
  readView(): BackendReadView {
    return this.inner.readView();
  }
  async size(): Promise<BackendSize> {
    const size = await this.inner.size();
    const available = this.faults.availableBytes;
    return available === undefined ? size : { ...size, available };
  }
  defragment(): Promise<void> {
    return this.inner.defragment();
  }
}
