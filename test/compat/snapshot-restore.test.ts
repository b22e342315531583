import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { etcdctl, normalize } from './etcdctl.js';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { CAIRN_BIN, ETCD_BIN, type ServerProcess, startCairn, startEtcd, skipWithoutEtcdctl } from './processes.js';
import { restoreSnapshot, runCairnCommand, startRestoredCairn } from './restored-member.js';

/**
 * Durable storage plugins to restore into, in order of preference: the first one that is built
 * is used. `cairn snapshot restore` refuses the in-memory default, and the restored member must
 * find its data after a restart, so the test needs one of these.
 */
const DURABLE_STORAGE_PLUGINS = ['@cairn/storage-lmdb', '@cairn/storage-leveldb'] as const;

async function builtStoragePlugin(): Promise<string | undefined> {
  for (const name of DURABLE_STORAGE_PLUGINS) {
    try {
      const loaded = (await import(name)) as { default?: { manifest?: { provides?: string[] } } };
      if (loaded.default?.manifest?.provides?.includes('backend') === true) return name;
    } catch {
      // Not built (no dist) or not installed: try the next one.
    }
  }
  return undefined;
}

async function writeHistory(endpoint: string, withLease: boolean): Promise<void> {
  const run = async (args: string[], stdin?: string): Promise<void> => {
    const r = await etcdctl(endpoint, args, stdin);
    expect(r.code, `etcdctl ${args.join(' ')}: ${r.stderr}`).to.equal(0);
  };
  await run(['put', 'a', '1']);
  await run(['put', 'b', '2']);
  await run(['put', 'c', '3']);
  await run(['put', 'a', '11']);
  await run(['del', 'b']);
  await run(['put', 'd', '4']);
  // One transaction of 100 puts: one revision, sub revisions 0..99, ~100 KiB over many pages.
  const puts = Array.from({ length: 100 }, (_, i) => `put /bulk/${String(i).padStart(3, '0')} ${String.fromCharCode(97 + (i % 26)).repeat(1000)}`);
  await run(['txn'], `\n${puts.join('\n')}\n\n\n`);
  await run(['put', 'big'], 'z'.repeat(20_000));
  await run(['compaction', '5']);
  await run(['put', 'a', '111']);
  await run(['del', '--prefix', '/bulk/00']);
  await run(['put', 'c', '33']);
  if (withLease) {
    const granted = await etcdctl(endpoint, ['lease', 'grant', '3600']);
    const lease = /lease ([0-9a-f]+) granted/.exec(granted.stdout)?.[1];
    expect(lease, granted.stdout + granted.stderr).to.not.equal(undefined);
    await run(['put', 'leased', 'v', `--lease=${lease}`]);
  }
  await run(['put', 'e', '5']);
}

interface GetJson {
  header: { revision: number };
  kvs?: Record<string, unknown>[];
  count?: number;
}

/** `get --from-key '' -w json` at `rev` (0: now), member IDs and terms blanked; or the error line. */
async function everything(endpoint: string, rev = 0): Promise<string> {
  const r = await etcdctl(endpoint, ['get', '--from-key', '', '-w', 'json', ...(rev > 0 ? ['--rev', String(rev)] : [])]);
  if (r.code !== 0) return r.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? r.stderr;
  return normalize(r.stdout);
}

async function currentRevision(endpoint: string): Promise<number> {
  return (JSON.parse(await everything(endpoint)) as GetJson).header.revision;
}

describe('cairn snapshot restore of etcdctl snapshot save files', function () {
  this.timeout(300_000);
  let dir: string;
  let storage: string | undefined;
  let configFile: string;
  const servers: ServerProcess[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    storage = await builtStoragePlugin();
    if (storage === undefined) {
      console.log(`      skipped: none of ${DURABLE_STORAGE_PLUGINS.join(', ')} is built (npx tsc -b plugins/storage-lmdb)`);
      this.skip();
    }
    console.log(`      (restoring into ${storage})`);
    dir = await mkdtemp(join(tmpdir(), 'cairn-restore-e2e-'));
    configFile = join(dir, 'cairn.yaml');
    await writeFile(configFile, `plugins:\n  storage: { use: "${storage}" }\n`);
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Save a snapshot of `source`, restore it into a new dir, start cairn there, and compare every read. */
  async function restoreAndCompare(source: ServerProcess, label: string): Promise<void> {
    const snapshot = join(dir, `${label}.snapshot.db`);
    const saved = await etcdctl(source.endpoint, ['snapshot', 'save', snapshot]);
    expect(saved.code, saved.stderr).to.equal(0);
    const status = JSON.parse((await etcdctl(source.endpoint, ['snapshot', 'status', snapshot, '-w', 'json'])).stdout) as { revision: number };
    const revision = await currentRevision(source.endpoint);
    expect(status.revision, 'snapshot status revision').to.equal(revision);

    const dataDir = join(dir, `${label}.restored`);
    const peerPort = await freeLoopbackPort();
    const peer = `http://127.0.0.1:${peerPort}`;
    const member = { name: 'r1', token: `restored-${label}`, peer };
    const restored = await restoreSnapshot(snapshot, dataDir, member, dir, ['--config-file', configFile]);
    expect(restored.code, restored.stderr).to.equal(0);
    expect(restored.stdout).to.contain(`revision ${revision}`).and.to.contain('sha256 verified');
    const announced = /as member ([0-9a-f]{16})/.exec(restored.stdout)?.[1];

    const cairn = await startRestoredCairn(dataDir, member, ['--config-file', configFile]);
    servers.push(cairn);
    const memberId = (
      JSON.parse((await etcdctl(cairn.endpoint, ['endpoint', 'status', '-w', 'json'])).stdout) as { Status: { header: { member_id: number } } }[]
    )[0]!.Status.header.member_id;
    // JSON numbers lose precision past 2^53; compare the leading hex digits only.
    expect(BigInt(memberId).toString(16).padStart(16, '0').slice(0, 10), 'the member ID the restore announced').to.equal(announced!.slice(0, 10));

    // Every key, value, create/mod revision, version and lease, now and at each uncompacted revision.
    const compacted = await everything(source.endpoint, 4);
    expect(compacted, 'revision 4 was compacted in the source').to.match(/required revision has been compacted/);
    for (let rev = 4; rev <= revision; rev++) {
      expect(await everything(cairn.endpoint, rev), `get --from-key '' --rev ${rev}`).to.equal(await everything(source.endpoint, rev));
    }
    const now = await everything(cairn.endpoint);
    expect(now).to.equal(await everything(source.endpoint));
    const kvs = (JSON.parse(now) as GetJson).kvs ?? [];
    // 90 bulk keys left, a, c, d, big, e (b was deleted), and the leased key from etcd.
    expect(kvs.length).to.equal(90 + 5 + (label === 'etcd' ? 1 : 0));

    // Revisions continue from the snapshot's.
    const put = JSON.parse((await etcdctl(cairn.endpoint, ['put', 'after-restore', 'x', '-w', 'json'])).stdout) as { header: { revision: number } };
    expect(put.header.revision).to.equal(revision + 1);
    const created = JSON.parse((await etcdctl(cairn.endpoint, ['get', 'after-restore', '-w', 'json'])).stdout) as GetJson;
    expect(created.kvs?.[0]?.['create_revision']).to.equal(revision + 1);

    // And it all survives a restart of the restored member.
    await cairn.stop();
    const again = await startRestoredCairn(dataDir, member, ['--config-file', configFile]);
    servers.push(again);
    expect(await currentRevision(again.endpoint)).to.equal(revision + 1);
  }

  it('restores a snapshot saved from cairn: the same keys, values, revisions and versions', async () => {
    const source = await startCairn(join(dir, 'source.cairn'));
    servers.push(source);
    await writeHistory(source.endpoint, false);
    await restoreAndCompare(source, 'cairn');
  });

  it('restores a snapshot saved from a real etcd 3.4 (a migration path from etcd)', async function () {
    if (!existsSync(ETCD_BIN)) {
      console.log(`      skipped: ${ETCD_BIN} is missing (apt-get install etcd-server)`);
      this.skip();
    }
    const source = (await startEtcd(join(dir, 'source.etcd')))!;
    servers.push(source);
    await writeHistory(source.endpoint, true);
    await restoreAndCompare(source, 'etcd');
  });

  it('refuses bad input with one line and exit code 2, leaving the data dir as it was', async () => {
    const work = join(dir, 'refusals');
    await mkdir(work);
    const source = await startCairn(join(work, 'source.cairn'));
    servers.push(source);
    await etcdctl(source.endpoint, ['put', 'k', 'v']);
    const good = join(work, 'good.db');
    expect((await etcdctl(source.endpoint, ['snapshot', 'save', good])).code).to.equal(0);
    const damaged = Buffer.from(await readFile(good));
    damaged[damaged.length - 200] ^= 0x01;
    await writeFile(join(work, 'damaged.db'), damaged);
    await writeFile(join(work, 'text.db'), 'not a snapshot\n'.repeat(1000));
    await mkdir(join(work, 'in-use', 'member'), { recursive: true });
    await writeFile(join(work, 'in-use', 'member', 'data'), 'x');

    const cases = [
      { file: 'missing.db', dataDir: 'new-dir', message: /cannot read the snapshot .*missing\.db: ENOENT/ },
      { file: 'text.db', dataDir: 'new-dir', message: /text\.db: not a valid bbolt database/ },
      { file: 'damaged.db', dataDir: 'new-dir', message: /damaged\.db: sha256 mismatch/ },
      { file: 'good.db', dataDir: 'in-use', message: /in-use already holds data/ },
    ];
    for (const c of cases) {
      const before = existsSync(join(work, c.dataDir)) ? readdirSync(join(work, c.dataDir), { recursive: true }).sort() : null;
      // Absolute: with --config-file, a relative data dir is taken from the config file's directory, as `cairn` does.
      const r = await runCairnCommand(['snapshot', 'restore', c.file, '--config-file', configFile, '--data-dir', join(work, c.dataDir)], work);
      expect(r.code, `${c.file}: ${r.stderr}`).to.equal(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0])
        .to.match(/^cairn: snapshot restore: /)
        .and.to.match(c.message);
      const after = existsSync(join(work, c.dataDir)) ? readdirSync(join(work, c.dataDir), { recursive: true }).sort() : null;
      expect(after, `${c.dataDir} unchanged`).to.deep.equal(before);
    }
    const good2 = await runCairnCommand(['snapshot', 'restore', 'good.db', '--config-file', configFile, '--data-dir', join(work, 'new-dir')], work);
    expect(good2.code, good2.stderr).to.equal(0);
    expect(readdirSync(join(work, 'new-dir')).length).to.be.greaterThan(0);
  });

  it('draws a progress bar on a terminal (a pseudo-terminal through script) and nothing when piped', async function () {
    if (!existsSync('/usr/bin/script')) {
      console.log('      skipped: /usr/bin/script (util-linux) is missing; the core test draws on an injected terminal');
      this.skip();
    }
    const work = join(dir, 'progress');
    await mkdir(work);
    const source = await startCairn(join(work, 'source.cairn'));
    servers.push(source);
    await writeHistory(source.endpoint, false);
    const snapshot = join(work, 'history.db');
    expect((await etcdctl(source.endpoint, ['snapshot', 'save', snapshot])).code).to.equal(0);
    const restoreArgs = (dataDir: string): string[] => ['snapshot', 'restore', snapshot, '--config-file', configFile, '--data-dir', join(work, dataDir)];

    // stdout and stderr on a pseudo-terminal: script copies what the terminal showed to its stdout.
    const command = [process.execPath, CAIRN_BIN, ...restoreArgs('on-tty')].map((a) => `'${a}'`).join(' ');
    const tty = await new Promise<{ code: number; shown: string }>((done) => {
      execFile('/usr/bin/script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: work, timeout: 120_000 }, (err, stdout) => {
        done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, shown: stdout });
      });
    });
    expect(tty.code, tty.shown).to.equal(0);
    expect(tty.shown).to.match(/\rchecking sha256 \[#+\] 100% /);
    expect(tty.shown).to.match(/\rrestoring \d+ revisions/);
    expect(tty.shown).to.contain('restored ');

    const piped = await runCairnCommand(restoreArgs('piped'), work);
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.stderr, 'no bar and no control characters when stderr is a pipe').to.equal('');
    expect(piped.stdout).to.contain('restored ');
  });

  it('is listed in cairn --help', async () => {
    const help = await runCairnCommand(['--help'], dir);
    expect(help.stdout).to.contain('cairn snapshot restore FILE');
    const restoreHelp = await runCairnCommand(['snapshot', 'restore', '--help'], dir);
    expect(restoreHelp.code).to.equal(0);
    for (const flag of [
      '--data-dir',
      '--name',
      '--initial-cluster',
      '--initial-cluster-token',
      '--initial-advertise-peer-urls',
      '--config-file',
      '--skip-hash-check',
    ]) {
      expect(restoreHelp.stdout).to.contain(flag);
    }
  });
});
