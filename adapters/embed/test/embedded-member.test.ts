import { readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { API_FRONTEND, ConfigError } from '@cairn/core';
import { DISK_FAULT_PLUGIN_PATH, diskFaultsNamed, forgetDiskFaults, MemoryLogger, rejection, runCommand, TemporaryDirectories } from '@cairn/core/testkit';
import { type ChannelError } from '@cairn/client';
import { startEmbeddedMember, type EmbeddedConfig } from '../src/index.js';
import { StreamRecorder } from './stream-recorder.js';

/** The `cairn` command of the core this package runs on. */
const CAIRN = join(dirname(fileURLToPath(import.meta.resolve('@cairn/core'))), '../../bin/cairn.js');

/** What `cairn --config-file` says of the same keys written to a file (it exits 2 before starting anything). */
async function cairnCommandError(keys: EmbeddedConfig, dir: string): Promise<{ code: number; line: string }> {
  const file = join(dir, 'cairn.json');
  await writeFile(file, JSON.stringify(keys));
  const result = await runCommand(process.execPath, [CAIRN, '--config-file', file], process.env, 30_000);
  return { code: result.code, line: result.stderr.trim() };
}

const bytes = (s: string): Buffer => Buffer.from(s);

describe('startEmbeddedMember: a member from config keys, in this process', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-embed');
  after(() => dirs.removeAll());

  it('stores in the WAL and LMDB under data-dir, listens nowhere, and reopens its data after close()', async () => {
    const dataDir = await dirs.make('reopen');
    const config = { 'name': 'reopen', 'data-dir': dataDir, 'log-level': 'error' };
    const first = await startEmbeddedMember(config);
    let revision: string;
    try {
      expect(first.member.container.getAll(API_FRONTEND, { optional: true }), 'no API frontend').to.have.length(0);
      const put = (await first.channel.unary('KV', 'Put', { key: bytes('durable'), value: bytes('yes') })) as { header: { revision: string } };
      revision = put.header.revision;
    } finally {
      await first.close();
      await first.close(); // idempotent
    }
    expect(((await rejection(first.channel.unary('KV', 'Range', { key: bytes('durable') }))) as ChannelError).code).to.equal(14);
    const stored = (await readdir(dataDir, { recursive: true })).join(' ');
    expect(stored, 'the WAL plugin’s segment files').to.match(/\bwal\/\d+\.wal\b/);
    expect(stored, 'the LMDB plugin’s environment').to.include('lmdb/data.mdb');

    const second = await startEmbeddedMember(config);
    try {
      const got = (await second.channel.unary('KV', 'Range', { key: bytes('durable') })) as { kvs: { value: Buffer; mod_revision: string }[] };
      expect(got.kvs.map((kv) => kv.value.toString())).to.deep.equal(['yes']);
      expect(got.kvs[0]!.mod_revision).to.equal(revision);
    } finally {
      await second.close();
    }
  });

  it('ends open streams with UNAVAILABLE when closed', async () => {
    const embedded = await startEmbeddedMember({ 'name': 'closing', 'data-dir': await dirs.make('closing'), 'log-level': 'error' });
    const stream = embedded.channel.duplex('Watch', 'Watch');
    const recorder = new StreamRecorder<{ created: boolean }>(stream);
    stream.write({ create_request: { key: bytes('a') } });
    await recorder.next((r) => r.created);
    await embedded.close();
    await recorder.finished();
    expect(recorder.error?.code).to.equal(14);
  });

  const badConfigs: { what: string; keys: (dir: string) => EmbeddedConfig }[] = [
    { what: 'an unknown key', keys: (dir) => ({ 'data-dir': dir, 'lisen-client-urls': 'http://127.0.0.1:1' }) },
    { what: 'a value of the wrong type', keys: (dir) => ({ 'data-dir': dir, 'heartbeat-interval': 'fast' }) },
    { what: 'inconsistent timings', keys: (dir) => ({ 'data-dir': dir, 'heartbeat-interval': 100, 'election-timeout': 200 }) },
    { what: 'an unknown plugin', keys: (dir) => ({ 'data-dir': dir, 'plugins': { storage: { use: '@cairn/no-such-storage' } } }) },
  ];
  for (const bad of badConfigs) {
    it(`refuses ${bad.what} with the ConfigError the cairn command prints`, async () => {
      const dir = await dirs.make('bad');
      const keys = bad.keys(join(dir, 'data'));
      const error = await rejection(startEmbeddedMember({ ...keys, 'log-level': 'error' }));
      expect(error).to.be.instanceOf(ConfigError);
      const command = await cairnCommandError({ ...keys, 'log-level': 'error' }, dir);
      expect(command.code).to.equal(2);
      expect(`cairn: ${error.message}`).to.equal(command.line);
    });
  }
});

describe('startEmbeddedMember: a member that halts', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-embed-fatal');
  after(() => dirs.removeAll());

  it('closes its channel with the fatal error, tells onFatal, and its data dir opens again with every acknowledged write', async () => {
    const dataDir = await dirs.make('fatal');
    const faults = 'embedded-fatal';
    const wal = createRequire(import.meta.url).resolve('@cairn/storage-wal');
    const faulty = { 'name': 'fatal', 'data-dir': dataDir, 'plugins': { logStore: { use: DISK_FAULT_PLUGIN_PATH, wrap: wal, faults } } };
    const logger = new MemoryLogger({ level: 'error' });
    const embedded = await startEmbeddedMember(faulty, { logger });
    try {
      await embedded.channel.unary('KV', 'Put', { key: bytes('before'), value: bytes('acknowledged') });
      const halted = new Promise<Error>((resolve) => embedded.onFatal(resolve));
      diskFaultsNamed(faults).arm({ target: 'log', kind: 'eio' });
      const put = (await rejection(embedded.channel.unary('KV', 'Put', { key: bytes('after'), value: bytes('never acknowledged') }))) as ChannelError;
      const error = await halted;
      expect(error.message, 'the fatal error names the failed write').to.match(/EIO/);
      expect(put.code, 'the write in flight is not acknowledged').to.not.equal(0);
      const later = (await rejection(embedded.channel.unary('KV', 'Range', { key: bytes('before') }))) as ChannelError;
      expect({ code: later.code, halted: later.details.includes('member halted') }).to.deep.equal({ code: 14, halted: true });
      const late = await new Promise<Error>((resolve) => embedded.onFatal(resolve));
      expect(late, 'a listener added after the halt hears of it too').to.equal(error);
    } finally {
      await embedded.close();
      forgetDiskFaults(faults);
    }

    const reopened = await startEmbeddedMember({ 'name': 'fatal', 'data-dir': dataDir, 'log-level': 'error' });
    try {
      const got = (await reopened.channel.unary('KV', 'Range', { key: bytes('before') })) as { kvs: { value: Buffer }[] };
      expect(got.kvs.map((kv) => kv.value.toString())).to.deep.equal(['acknowledged']);
    } finally {
      await reopened.close();
    }
  });
});

describe('InProcessChannel with auth: the token option is the call’s token', function () {
  this.timeout(30_000);
  const dirs = new TemporaryDirectories('cairn-embed');
  after(() => dirs.removeAll());

  it('authorizes with the token, refuses a missing or bad one with etcd’s errors, and a watch as etcd does', async () => {
    const embedded = await startEmbeddedMember({ 'name': 'auth', 'data-dir': await dirs.make('auth'), 'log-level': 'error', 'bcrypt-cost': 4 });
    const { channel } = embedded;
    try {
      await channel.unary('Auth', 'UserAdd', { name: 'root', password: 'secret' });
      await channel.unary('Auth', 'RoleAdd', { name: 'root' });
      await channel.unary('Auth', 'UserGrantRole', { user: 'root', role: 'root' });
      await channel.unary('Auth', 'AuthEnable', {});
      const { token } = (await channel.unary('Auth', 'Authenticate', { name: 'root', password: 'secret' })) as { token: string };
      expect(token).to.be.a('string').and.not.equal('');

      await channel.unary('KV', 'Put', { key: bytes('secured'), value: bytes('v') }, { token });
      const noToken = (await rejection(channel.unary('KV', 'Range', { key: bytes('secured') }))) as ChannelError;
      expect({ code: noToken.code, details: noToken.details }).to.deep.equal({ code: 3, details: 'etcdserver: user name is empty' });
      const badToken = (await rejection(channel.unary('KV', 'Range', { key: bytes('secured') }, { token: 'not-a-token' }))) as ChannelError;
      expect({ code: badToken.code, details: badToken.details }).to.deep.equal({ code: 16, details: 'etcdserver: invalid auth token' });
      const got = (await channel.unary('KV', 'Range', { key: bytes('secured') }, { token })) as { kvs: { value: Buffer }[] };
      expect(got.kvs[0]!.value.toString()).to.equal('v');

      // A watch with a bad token: the stream opens, each create is refused with the token's error (clientv3 re-authenticates on it).
      const refused = channel.duplex('Watch', 'Watch', { token: 'not-a-token' });
      const recorder = new StreamRecorder<{ created: boolean; canceled: boolean; cancel_reason: string }>(refused);
      refused.write({ create_request: { key: bytes('secured') } });
      const answer = await recorder.next();
      expect(answer).to.include({ created: true, canceled: true, cancel_reason: 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token' });
      refused.cancel();

      await channel.unary('Auth', 'AuthDisable', {}, { token });
    } finally {
      await embedded.close();
    }
  });
});
