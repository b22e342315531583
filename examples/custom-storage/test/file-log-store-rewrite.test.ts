import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntryType, type Entry, type LogStore } from '@cairn/core';
import { analyseFsyncOrdering, findStrace, FSYNC_TRACE_SYSCALLS, parseStraceOutput, STRACE_MISSING, type TraceCall } from '@cairn/core/testkit';
import { FileLogStore } from '../src/index.js';
import { modelAfter, rewriteTag, rewriteWorkload, type RewriteModel } from './rewrite-workload.js';

const KiB = 1024;
const childPath = fileURLToPath(new URL(`./rewrite-workload-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
/** This process's Node options (tsx under sources) minus debugger flags, for the child. */
const childExecArgv = (): string[] => process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));

const entriesOf = (from: number, to: number, term: number, bytes = KiB): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, type: EntryType.Normal, data: new Uint8Array(bytes).fill((from + i) % 251) }));

async function fileBytes(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Asserts `store` holds exactly the log of `model`: bounds and every entry's index, term and bytes. */
async function assertHolds(store: LogStore, model: RewriteModel, what: string): Promise<void> {
  expect(store.firstIndex(), `firstIndex ${what}`).to.equal(model.offset + 1);
  expect(store.lastIndex(), `lastIndex ${what}`).to.equal(model.lastIndex);
  const got = await store.entries(store.firstIndex(), store.lastIndex() + 1);
  expect(
    got.map((e) => [e.index, e.term]),
    `entries ${what}`,
  ).to.deep.equal(model.entries.map((e) => [e.index, e.term]));
  got.forEach((e, i) => expect(Buffer.from(e.data).equals(Buffer.from(model.entries[i]!.data)), `data of entry ${e.index} ${what}`).to.equal(true));
}

interface Child {
  readonly lines: string[];
  readonly exited: Promise<void>;
  readonly pid: number;
  stderr: string;
  /** Resolves once `n` acks were printed; rejects if the child exits first. */
  acked(n: number): Promise<void>;
}

function startChild(command: string, args: string[]): Child {
  const process_ = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let wake: () => void = () => undefined;
  let exited = false;
  const child: Child = {
    lines,
    pid: process_.pid!,
    stderr: '',
    exited: new Promise((resolve) =>
      process_.once('close', () => {
        exited = true;
        wake();
        resolve();
      }),
    ),
    async acked(n) {
      while (lines.filter((l) => l.startsWith('ack ')).length < n) {
        if (exited) throw new Error(`the child exited after ${lines.length} lines: ${child.stderr.slice(-2000)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
  process_.stdout!.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  process_.stderr!.setEncoding('utf8').on('data', (text: string) => {
    child.stderr += text;
  });
  return child;
}

const lastAck = (lines: readonly string[]): number => lines.reduce((n, l) => (/^ack \d+$/.test(l) ? Number(l.slice(4)) : n), 0);

describe('FileLogStore keeps its file bounded: a compaction that leaves it mostly dead rewrites it', function () {
  this.timeout(120_000);
  const directories: string[] = [];
  const stores: LogStore[] = [];
  const children: Child[] = [];

  const directory = async (): Promise<string> => {
    const made = await realpath(await mkdtemp(join(tmpdir(), 'cairn-file-log-')));
    directories.push(made);
    return made;
  };
  const opened = async (dir: string, rewriteMinBytes?: number): Promise<FileLogStore> => {
    const store = new FileLogStore(dir, rewriteMinBytes === undefined ? {} : { rewriteMinBytes });
    stores.push(store);
    await store.open();
    return store;
  };

  afterEach(async () => {
    for (const child of children.splice(0)) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await child.exited;
    }
    for (const store of stores.splice(0)) await store.close();
    for (const made of directories.splice(0)) await rm(made, { recursive: true, force: true });
  });

  it('shrinks the file to the live entries, which read back the same after reopen; appends go on after it', async () => {
    const dir = await directory();
    const path = join(dir, 'log.dat');
    const store = await opened(dir, 64 * KiB);
    for (let from = 1; from <= 400; from += 20) await store.append(entriesOf(from, from + 19, 2));
    const before = await fileBytes(path);
    expect(before).to.be.greaterThan(400 * KiB);
    await store.compactTo(390, 2);
    const after = await fileBytes(path);
    expect(after, `log.dat after compacting 390 of 400 entries (it was ${before} bytes)`).to.be.lessThan(11 * KiB + 200);
    expect(await readdir(dir)).to.deep.equal(['log.dat']);
    await store.close();
    const reopened = await opened(dir, 64 * KiB);
    expect([reopened.firstIndex(), reopened.lastIndex(), await reopened.term(390)]).to.deep.equal([391, 400, 2]);
    expect((await reopened.entries(391, 401)).map((e) => e.data[0])).to.deep.equal(entriesOf(391, 400, 2).map((e) => e.data[0]));
    await reopened.append(entriesOf(401, 410, 3));
    expect(await fileBytes(path)).to.be.greaterThan(after);
    await reopened.close();
    const third = await opened(dir, 64 * KiB);
    expect([third.firstIndex(), third.lastIndex(), await third.term(410)]).to.deep.equal([391, 410, 3]);
  });

  it('does not rewrite a file smaller than rewriteMinBytes, nor one that a compaction leaves mostly live', async () => {
    const dir = await directory();
    const path = join(dir, 'log.dat');
    const store = await opened(dir, 64 * KiB);
    await store.append(entriesOf(1, 40, 1));
    const small = await fileBytes(path);
    await store.compactTo(39, 1);
    expect(await fileBytes(path), 'a 41 KiB file is only given a compaction marker').to.be.greaterThan(small);
    await store.append(entriesOf(40, 140, 1));
    const large = await fileBytes(path);
    await store.compactTo(60, 1);
    expect(await fileBytes(path), 'compacting 20 of 101 entries leaves most of the file live').to.be.greaterThan(large);
  });

  it('stays bounded under a Raft-like run of appends and compactions (and grows without bound when rewrites are off)', async () => {
    const run = async (rewriteMinBytes: number): Promise<number> => {
      const dir = await directory();
      const store = await opened(dir, rewriteMinBytes);
      let largest = 0;
      for (let round = 0; round < 60; round++) {
        const from = store.lastIndex() + 1;
        await store.append(entriesOf(from, from + 49, 1));
        await store.compactTo(store.lastIndex() - 10, 1);
        largest = Math.max(largest, await fileBytes(join(dir, 'log.dat')));
      }
      return largest;
    };
    const bounded = await run(1 << 20);
    const unbounded = await run(Number.MAX_SAFE_INTEGER);
    expect(bounded, 'largest log.dat with the default rewriteMinBytes (1 MiB)').to.be.lessThan((1 << 20) + 60 * KiB);
    expect(unbounded, 'largest log.dat when it is never rewritten').to.be.greaterThan(2500 * KiB);
  });

  it('ignores and removes a rewrite that never reached its rename (a crash before it)', async () => {
    const dir = await directory();
    const store = await opened(dir, 0);
    await store.append(entriesOf(1, 30, 1));
    await store.close();
    // A whole, valid log of other entries, as a rewrite cut short after its fdatasync would leave.
    const other = await directory();
    const decoy = await opened(other, 0);
    await decoy.append(entriesOf(1, 5, 9));
    await decoy.close();
    await copyFile(join(other, 'log.dat'), join(dir, 'log.dat.rewrite'));
    const reopened = await opened(dir, 0);
    expect([reopened.firstIndex(), reopened.lastIndex(), await reopened.term(30)]).to.deep.equal([1, 30, 1]);
    expect(await readdir(dir)).to.deep.equal(['log.dat']);
    // A torn one too (garbage): the same.
    await reopened.close();
    await writeFile(join(dir, 'log.dat.rewrite'), Buffer.from('torn'));
    const again = await opened(dir, 0);
    expect(again.lastIndex()).to.equal(30);
    expect(await readdir(dir)).to.deep.equal(['log.dat']);
  });

  it('loses no acknowledged operation when a child is killed with SIGKILL while it rewrites again and again', async () => {
    const ops = rewriteWorkload(600);
    // Kill moments spread over the workload (every third operation rewrites), each plus a few ms.
    for (const [round, acks] of [4, 9, 13, 20, 26, 31, 38, 47].entries()) {
      const dir = await directory();
      const child = startChild(process.execPath, [...childExecArgv(), childPath, dir, String(ops.length)]);
      children.push(child);
      await child.acked(acks);
      await new Promise((resolve) => setTimeout(resolve, round % 4));
      process.kill(child.pid, 'SIGKILL');
      await child.exited;
      const acknowledged = lastAck(child.lines);
      const store = await opened(dir, 0);
      const states = [modelAfter(ops, acknowledged), modelAfter(ops, acknowledged + 1)];
      const matches = await Promise.all(
        states.map(async (model) =>
          assertHolds(store, model, '').then(
            () => true,
            () => false,
          ),
        ),
      );
      expect(
        matches.some((m) => m),
        `round ${round}: reopened after ${acknowledged} acks holds [${store.firstIndex()}, ${store.lastIndex()}]; expected the log after operation ${acknowledged} or ${acknowledged + 1}`,
      ).to.equal(true);
      expect(
        (await readdir(dir)).filter((n) => n !== 'log.dat'),
        'files left after open',
      ).to.deep.equal([]);
    }
  });

  it('a rewrite is fdatasynced before its rename, and the directory is fsynced before the compaction is acknowledged (strace)', async function () {
    const strace = findStrace();
    if (strace === undefined) {
      console.log(`      ${STRACE_MISSING}`);
      this.skip();
    }
    const dir = await directory();
    const traces = await directory();
    const traceFile = join(traces, 'strace.txt');
    const operations = 30;
    const child = startChild(strace, [
      '-f',
      '-y',
      '-s',
      '65536',
      '--seccomp-bpf',
      '-o',
      traceFile,
      '-e',
      `trace=${FSYNC_TRACE_SYSCALLS.join(',')}`,
      process.execPath,
      ...childExecArgv(),
      childPath,
      dir,
      String(operations),
    ]);
    children.push(child);
    await child.exited;
    expect(child.lines.at(-1), `the traced child finished: ${child.stderr.slice(-2000)}`).to.equal('done');
    const calls = parseStraceOutput(await readFile(traceFile, 'utf8'));

    // The kit's rule over the whole run: every append durable before its ack, across the renames.
    const analysis = analyseFsyncOrdering(calls, { directory: dir, cwd: process.cwd(), tagOf: rewriteTag });
    expect(analysis.violations.map((v) => v.problem)).to.deep.equal([]);
    expect(analysis.acks).to.have.length(operations);

    // And each rewrite's own order: last write, fdatasync, rename, directory fsync, ack.
    const rewritePath = join(dir, 'log.dat.rewrite');
    const onFd = (call: TraceCall, path: string): boolean => call.args.startsWith(`${/^\d+/.exec(call.args)?.[0] ?? ''}<${path}>`);
    const renames = calls.filter((c) => /^rename/.test(c.name) && c.args.includes(`"${rewritePath}"`) && c.result === '0');
    expect(renames.length, 'rewrites in 30 operations (every compaction rewrites)').to.equal(operations / 3);
    for (const rename of renames) {
      const lastWrite = calls.filter((c) => /write/.test(c.name) && onFd(c, rewritePath) && c.exit < rename.enter).at(-1);
      expect(lastWrite, 'a write of the new file before its rename').to.not.equal(undefined);
      const synced = calls.some(
        (c) => /^f(data)?sync$/.test(c.name) && onFd(c, rewritePath) && c.enter > lastWrite!.exit && c.exit < rename.enter && c.result === '0',
      );
      expect(synced, `the new file synced between its last write (line ${lastWrite!.exit}) and its rename (line ${rename.enter})`).to.equal(true);
      const ack = calls.find((c) => c.name === 'write' && c.args.startsWith('1<') && c.args.includes('"ack ') && c.enter > rename.exit);
      expect(ack, 'an ack after the rename').to.not.equal(undefined);
      const dirSynced = calls.some((c) => c.name === 'fsync' && onFd(c, dir) && c.enter > rename.exit && c.exit < ack!.enter && c.result === '0');
      expect(dirSynced, `the directory fsynced between the rename (line ${rename.exit}) and the next ack (line ${ack!.enter})`).to.equal(true);
    }
  });
});
