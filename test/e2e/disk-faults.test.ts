import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISK_RESERVE_BYTES } from '@cairn/core';
import { DISK_FAULT_PLUGIN_PATH } from '@cairn/core/testkit';
import { etcdctl } from '../compat/etcdctl.js';
import { freeMemberPorts, skipWithoutEtcdctl, startCairn, type MemberPorts, type ServerProcess } from '../compat/processes.js';
import { RawEtcdClient } from '../compat/raw-kv-client.js';

/**
 * Disk faults under a real `cairn` process, for each storage plugin:
 * - an fsync of the Raft log failing with EIO (injected at the LogStore port by the testkit's
 *   disk-fault plugin, armed through a file): the process exits non-zero without acknowledging the
 *   writes it could not sync, and a restart on the same data dir has every acknowledged write;
 * - the log's file system filling up (a real tmpfs, real ENOSPC from the kernel): the same;
 * - the backend's file system filling up (a real tmpfs): NOSPACE, writes refused with etcd's
 *   error, reads and deletes served, writes again after space is freed and the alarm disarmed.
 * The tmpfs cases need root (mount); they skip, saying so, without it.
 */

const RESOURCE_EXHAUSTED = 8;
const NO_SPACE = 'etcdserver: mvcc: database space exceeded';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function run(command: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { timeout: 20_000 }, (err, _stdout, stderr) =>
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr }),
    );
  });
}

/** A tmpfs of `bytes` mounted at `dir` (made here); unmounted by `unmount`. Undefined (with the reason) when mounting is not allowed. */
async function mountTmpfs(dir: string, bytes: number): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  await mkdir(dir, { recursive: true });
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  return mounted.code === 0 ? undefined : `mount -t tmpfs failed: ${mounted.stderr.trim()}`;
}

async function resizeTmpfs(dir: string, bytes: number): Promise<void> {
  const resized = await run('mount', ['-o', `remount,size=${bytes}`, dir]);
  expect(resized.code, `remount ${dir}: ${resized.stderr}`).to.equal(0);
}

async function unmount(dir: string): Promise<void> {
  await run('umount', [dir]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the exit code once `server` has exited by itself; fails when it is still up after `ms`. */
async function exitOf(server: ServerProcess, ms: number): Promise<number | null> {
  const deadline = Date.now() + ms;
  while (alive(server.pid) && Date.now() < deadline) await sleep(20);
  expect(alive(server.pid), `cairn (pid ${server.pid}) still runs ${ms} ms after the fault:\n${server.log()}`).to.equal(false);
  return server.stop();
}

/**
 * Writers put distinct keys (values of `valueBytes`) until each has seen a failure or `limitMs`
 * passed; `armAfter(acked)` runs once when that many puts are acknowledged. Returns the keys of
 * acknowledged puts.
 */
async function writeUntilFailure(client: RawEtcdClient, valueBytes: number, armAt: number, arm: () => Promise<void>, limitMs = 30_000): Promise<string[]> {
  const acked: string[] = [];
  const value = Buffer.alloc(valueBytes, 7);
  let armed = false;
  const deadline = Date.now() + limitMs;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < deadline; i++) {
      const key = `df/${w}/${String(i).padStart(6, '0')}`;
      try {
        await client.call('kv', 'Put', { key: Buffer.from(key), value });
        acked.push(key);
      } catch {
        return;
      }
      if (!armed && acked.length >= armAt) {
        armed = true;
        await arm();
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map((w) => writer(w)));
  return acked;
}

/** Restart on the same data dir and ports; every key of `acked` must read back, and a new put must work. */
async function assertAckedSurvive(dataDir: string, args: string[], ports: MemberPorts, acked: readonly string[]): Promise<void> {
  const again = await startCairn(dataDir, args, ports);
  const client = new RawEtcdClient(again.endpoint);
  try {
    const read = await client.call('kv', 'Range', { key: Buffer.from('df/'), range_end: Buffer.from('df0'), keys_only: true });
    const present = new Set((read['kvs'] as { key: Buffer }[]).map((kv) => Buffer.from(kv.key).toString()));
    const lost = acked.filter((key) => !present.has(key));
    expect(lost, `${lost.length} of ${acked.length} acknowledged writes missing after the restart:\n${again.log()}`).to.deep.equal([]);
    await client.call('kv', 'Put', { key: Buffer.from('after-restart'), value: Buffer.from('v') });
  } finally {
    client.close();
    expect(await again.stop()).to.equal(0);
  }
}

interface StorageCase {
  readonly name: string;
  /** The `plugins:` section with the log's entry wrapped by the disk-fault plugin (armed by `armFile`). */
  readonly faulty: (armFile: string) => Record<string, unknown>;
  /** The `plugins:` section with the log alone in `logDir`. */
  readonly logIn: (logDir: string) => Record<string, unknown>;
  /** The `plugins:` section for the NOSPACE case (everything in the data dir); undefined = no config (the default: WAL + LMDB). */
  readonly plain: Record<string, unknown> | undefined;
}

const CASES: readonly StorageCase[] = [
  {
    name: '@cairn/storage-wal (log) + @cairn/storage-lmdb',
    faulty: (armFile) => ({ logStore: { use: DISK_FAULT_PLUGIN_PATH, wrap: '@cairn/storage-wal', armFile }, storage: { use: '@cairn/storage-lmdb' } }),
    logIn: (logDir) => ({ logStore: { use: '@cairn/storage-wal', directory: logDir }, storage: { use: '@cairn/storage-lmdb' } }),
    plain: undefined,
  },
  {
    name: '@cairn/storage-lmdb',
    faulty: (armFile) => ({ storage: { use: DISK_FAULT_PLUGIN_PATH, wrap: '@cairn/storage-lmdb', armFile } }),
    logIn: (logDir) => ({ logStore: { use: '@cairn/storage-lmdb', directory: logDir }, storage: { use: '@cairn/storage-lmdb' } }),
    plain: { storage: { use: '@cairn/storage-lmdb' } },
  },
  {
    name: '@cairn/storage-leveldb',
    faulty: (armFile) => ({ storage: { use: DISK_FAULT_PLUGIN_PATH, wrap: '@cairn/storage-leveldb', armFile } }),
    logIn: (logDir) => ({ logStore: { use: '@cairn/storage-leveldb', directory: logDir }, storage: { use: '@cairn/storage-leveldb' } }),
    plain: { storage: { use: '@cairn/storage-leveldb' } },
  },
];

/** Config file args for `plugins` (JSON is YAML), or none. */
async function configArgs(dir: string, plugins: Record<string, unknown> | undefined): Promise<string[]> {
  const args = ['--log-level', 'warn'];
  if (plugins === undefined) return args;
  const file = join(dir, 'cairn.yaml');
  await writeFile(file, JSON.stringify({ plugins }));
  return ['--config-file', file, ...args];
}

for (const storage of CASES)
  describe(`disk faults on ${storage.name} (real process)`, function () {
    this.timeout(60_000);
    let dir: string;
    const servers: ServerProcess[] = [];
    const mounts: string[] = [];

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cairn-disk-faults-'));
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.stop();
      for (const mount of mounts.splice(0)) await unmount(mount);
      await rm(dir, { recursive: true, force: true });
    });

    it('an fsync of the log failing with EIO: the process exits 1, nothing unsynced acknowledged; the restart has every acknowledged write', async () => {
      const armFile = join(dir, 'arm-fault.json');
      const dataDir = join(dir, 'data');
      const args = await configArgs(dir, storage.faulty(armFile));
      const ports = await freeMemberPorts();
      const cairn = await startCairn(dataDir, args, ports);
      servers.push(cairn);
      const client = new RawEtcdClient(cairn.endpoint);
      let acked: string[];
      try {
        acked = await writeUntilFailure(client, 100, 50, async () => {
          // Renamed into place, so the member never reads half of it.
          await writeFile(`${armFile}.new`, JSON.stringify({ target: 'log', kind: 'eio' }));
          await rename(`${armFile}.new`, armFile);
        });
      } finally {
        client.close();
      }
      expect(await exitOf(cairn, 10_000)).to.equal(1);
      expect(cairn.log(), cairn.log()).to.match(/the Raft log append of entries \d+\.\.\d+ failed \(EIO\)/);
      expect(acked.length).to.be.at.least(50);
      await rm(armFile);
      await assertAckedSurvive(dataDir, args, ports, acked);
    });

    it('the log on a file system that fills up (tmpfs, real ENOSPC): the process exits 1; after the disk grows, the restart has every acknowledged write', async function () {
      const logDir = join(dir, 'log-fs');
      const why = await mountTmpfs(logDir, 2 << 20);
      if (why !== undefined) {
        console.log(`      skipped: ${why}`);
        this.skip();
      }
      mounts.push(logDir);
      const dataDir = join(dir, 'data');
      const args = await configArgs(dir, storage.logIn(join(logDir, 'log')));
      const ports = await freeMemberPorts();
      const cairn = await startCairn(dataDir, args, ports);
      servers.push(cairn);
      const client = new RawEtcdClient(cairn.endpoint);
      let acked: string[];
      try {
        acked = await writeUntilFailure(client, 8 << 10, Infinity, async () => undefined);
      } finally {
        client.close();
      }
      expect(await exitOf(cairn, 10_000)).to.equal(1);
      // The WAL and LevelDB report the kernel's ENOSPC; LMDB turns a short write into EIO.
      expect(cairn.log(), cairn.log()).to.match(/the Raft log append of entries \d+\.\.\d+ failed.*(ENOSPC|No space left on device|Input\/output error)/);
      expect(acked.length).to.be.greaterThan(10);
      await resizeTmpfs(logDir, 64 << 20);
      await assertAckedSurvive(dataDir, args, ports, acked);
    });

    it('the backend on a file system that fills up (tmpfs): NOSPACE, writes refused, reads and deletes served; writes again after space is freed and the alarm disarmed', async function () {
      skipWithoutEtcdctl(this);
      const fsDir = join(dir, 'fs');
      const why = await mountTmpfs(fsDir, DISK_RESERVE_BYTES + (12 << 20));
      if (why !== undefined) {
        console.log(`      skipped: ${why}`);
        this.skip();
      }
      mounts.push(fsDir);
      const cairn = await startCairn(join(fsDir, 'data'), await configArgs(dir, storage.plain));
      servers.push(cairn);
      const client = new RawEtcdClient(cairn.endpoint);
      try {
        // Leave about 4 MiB above the reserve: the puts below reach it within a few dozen.
        const filler = join(fsDir, 'filler');
        const { stdout } = await new Promise<{ stdout: string }>((done) =>
          execFile('df', ['-B1', '--output=avail', fsDir], (_e, out) => done({ stdout: out })),
        );
        const available = Number(stdout.trim().split('\n').pop());
        await writeFile(filler, Buffer.alloc(Math.max(0, available - DISK_RESERVE_BYTES - (4 << 20))));

        const value = Buffer.alloc(64 << 10, 3);
        let written = 0;
        let refused: { code: number; details: string } | undefined;
        for (; written < 400 && refused === undefined; written++) {
          refused = await client.failure('kv', 'Put', { key: Buffer.from(`fill/${String(written).padStart(4, '0')}`), value });
        }
        expect(refused, `a put was refused within ${written} puts of 64 KiB`).to.deep.equal({ code: RESOURCE_EXHAUSTED, details: NO_SPACE });
        expect(alive(cairn.pid), 'the member stays up').to.equal(true);

        const alarms = await etcdctl(cairn.endpoint, ['alarm', 'list']);
        expect(alarms.stdout).to.match(/^memberID:\d+ alarm:NOSPACE *\n$/);
        const put = await etcdctl(cairn.endpoint, ['put', 'small', 'x']);
        expect(put.code).to.not.equal(0);
        expect(put.stderr).to.contain(NO_SPACE);
        const read = await client.call('kv', 'Range', { key: Buffer.from('fill/'), range_end: Buffer.from('fill0'), count_only: true });
        expect(Number(read['count'])).to.equal(written - 1);
        const deleted = await etcdctl(cairn.endpoint, ['del', 'fill/0000']);
        expect(deleted.stdout.trim()).to.equal('1');

        // The operator frees space and disarms, as with etcd's quota.
        await rm(filler);
        const disarm = await etcdctl(cairn.endpoint, ['alarm', 'disarm']);
        expect(disarm.stdout).to.match(/^memberID:\d+ alarm:NOSPACE *\n$/);
        expect((await etcdctl(cairn.endpoint, ['alarm', 'list'])).stdout).to.equal('');
        const after = await etcdctl(cairn.endpoint, ['put', 'after', 'y']);
        expect(after.stdout.trim(), after.stderr).to.equal('OK');
        expect((await etcdctl(cairn.endpoint, ['get', 'after', '--print-value-only'])).stdout.trim()).to.equal('y');
      } finally {
        client.close();
      }
      expect(await cairn.stop()).to.equal(0);
    });
  });

// The plugin the configs above name must exist where the testkit says (it is compiled with the core).
if (!existsSync(DISK_FAULT_PLUGIN_PATH)) throw new Error(`${DISK_FAULT_PLUGIN_PATH} is missing: build @cairn/core`);
