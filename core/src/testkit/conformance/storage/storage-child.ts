/**
 * The child process of the kit's disk checks. Started as
 * `node [execArgv...] storage-child.js '<StorageChildTask JSON>'`; it builds the store with the
 * disk store module, runs the task and reports on stdout, one line per event:
 *   ready <pid>        the process is up (workloads: the store is open)
 *   ack <n>            operation n resolved (workloads)
 *   result <i> <json>  what a read task found in its i-th directory (StoreReadResult)
 *   done               the store was closed, or every directory was read
 * Lines are written synchronously (stdout is a pipe), so a line that reached the pipe was
 * written after what it reports, and survives a SIGKILL.
 */
import { writeSync } from 'node:fs';
import type { Lifecycle } from '../../../ports/lifecycle.js';
import type { LogStore } from '../../../ports/log-store.js';
import type { SnapshotStore } from '../../../ports/snapshot-store.js';
import type { StableStore } from '../../../ports/stable-store.js';
import { buildDiskStore } from './disk-store-module.js';
import { applyToStore, CRASH_WORKLOAD, LogWorkload, TRACE_WORKLOAD } from './log-workload.js';
import { stableStateNumber } from './stable-workload.js';
import type { ReadTask, ReportedError, StorageChildTask, StoreReadResult, WorkloadTask } from './storage-child-task.js';
import { summarizeLogStore, summarizeSnapshot, type StoreSummary } from './store-summaries.js';

// writeSync: one write(2) per line, done before the next operation starts.
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

function reported(stage: ReportedError['stage'], err: unknown): ReportedError {
  const e = err as { name?: unknown; message?: unknown; file?: unknown } | null;
  return {
    stage,
    name: typeof e?.name === 'string' ? e.name : typeof err,
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.file === 'string' ? { file: e.file } : {}),
  };
}

async function runLogWorkload(task: WorkloadTask): Promise<void> {
  const store = await buildDiskStore(task.module, 'createLogStore', task.directory);
  await store.open();
  say(`ready ${process.pid}`);
  const workload = new LogWorkload(task.seed, task.shape === 'trace' ? TRACE_WORKLOAD : CRASH_WORKLOAD);
  for (let n = 1; n <= task.operations; n++) {
    await applyToStore(store, workload.next());
    say(`ack ${n}`);
  }
  await finish(task, store);
}

async function runStableWorkload(task: WorkloadTask): Promise<void> {
  const store = await buildDiskStore(task.module, 'createStableStore', task.directory);
  await store.open();
  say(`ready ${process.pid}`);
  for (let n = 1; n <= task.operations; n++) {
    await store.save(stableStateNumber(task.seed, n));
    say(`ack ${n}`);
  }
  await finish(task, store);
}

async function finish(task: WorkloadTask, store: Lifecycle): Promise<void> {
  if (task.afterLast === 'wait') {
    // Stay alive with the store open until the parent kills this process.
    setInterval(() => undefined, 60_000);
    return;
  }
  await store.close();
  say('done');
}

async function readStore(task: ReadTask, directory: string): Promise<StoreReadResult> {
  const builder = task.task === 'read-log' ? 'createLogStore' : task.task === 'read-stable' ? 'createStableStore' : 'createSnapshotStore';
  let store: Lifecycle;
  try {
    store = await buildDiskStore(task.module, builder, directory);
    await store.open();
  } catch (err) {
    return { ok: false, error: reported('open', err) };
  }
  let summary: StoreSummary;
  if (task.task === 'read-log') {
    try {
      summary = { kind: 'log', log: await summarizeLogStore(store as LogStore) };
    } catch (err) {
      return { ok: false, error: reported('read', err) };
    }
  } else if (task.task === 'read-stable') {
    try {
      summary = { kind: 'stable', state: (await (store as StableStore).load()) ?? null };
    } catch (err) {
      return { ok: false, error: reported('read', err) };
    }
  } else {
    const snapshots = store as SnapshotStore;
    let latest;
    try {
      latest = await snapshots.latest();
    } catch (err) {
      return { ok: false, error: reported('latest', err) };
    }
    try {
      summary = { kind: 'snapshot', snapshot: latest === undefined ? null : await summarizeSnapshot(latest) };
    } catch (err) {
      return { ok: false, error: reported('read', err) };
    }
  }
  try {
    await store.close();
  } catch (err) {
    return { ok: false, error: reported('read', err) };
  }
  return { ok: true, summary };
}

async function readAll(task: ReadTask): Promise<void> {
  say(`ready ${process.pid}`);
  for (const [i, directory] of task.directories.entries()) say(`result ${i} ${JSON.stringify(await readStore(task, directory))}`);
  say('done');
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as StorageChildTask;
  switch (task.task) {
    case 'log-workload':
      return runLogWorkload(task);
    case 'stable-workload':
      return runStableWorkload(task);
    case 'read-log':
    case 'read-stable':
    case 'read-snapshot':
      return readAll(task);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`storage-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
