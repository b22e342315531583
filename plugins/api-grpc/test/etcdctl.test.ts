import { execFile } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startHarness, type Harness } from './harness.js';

const ETCDCTL = '/usr/bin/etcdctl';

/** Runs etcdctl (v3 API) against `endpoint`; resolves stdout, rejects with stderr. */
function etcdctl(endpoint: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ETCDCTL,
      [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=5s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15000 },
      (err, stdout, stderr) => (err !== null ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

describe('gRPC frontend: the real etcdctl', function () {
  let harness: Harness;
  let dir: string;

  before(function () {
    if (!existsSync(ETCDCTL)) {
      console.log(`      skipped: ${ETCDCTL} is not installed (apt-get install etcd-client)`);
      this.skip();
    }
  });
  beforeEach(async () => {
    harness = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'cairn-api-grpc-'));
  });
  afterEach(async () => {
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('put and get -w json', async () => {
    expect((await etcdctl(harness.address, ['put', 'foo', 'bar'])).trim()).to.equal('OK');
    const got = JSON.parse(await etcdctl(harness.address, ['get', 'foo', '-w', 'json'])) as {
      header: Record<string, number>;
      kvs: { key: string; value: string; version: number }[];
      count: number;
    };
    expect(got.header).to.deep.include({ revision: 2, raft_term: 2 });
    expect(BigInt(got.header['member_id']!)).to.be.a('bigint');
    expect(got.count).to.equal(1);
    expect(Buffer.from(got.kvs[0]!.key, 'base64').toString()).to.equal('foo');
    expect(Buffer.from(got.kvs[0]!.value, 'base64').toString()).to.equal('bar');
  });

  it('reports the etcd error message of a failed request', async () => {
    const err = await etcdctl(harness.address, ['get', 'k', '--rev', '99']).then(
      () => 'succeeded',
      (e: Error) => e.message,
    );
    expect(err).to.contain('etcdserver: mvcc: required revision is a future revision');
  });

  it('snapshot save writes the streamed data with its SHA-256 appended, as etcd sends it', async () => {
    const data = randomBytes(3 * 32 * 1024 + 512);
    harness.services.snapshotBytes = data;
    const file = join(dir, 'snap.db');
    const out = await etcdctl(harness.address, ['snapshot', 'save', file]);
    expect(out).to.contain(`Snapshot saved at ${file}`);
    const saved = await readFile(file);
    expect(saved.length).to.equal(data.length + 32);
    expect(saved.subarray(0, data.length).equals(data)).to.equal(true);
    expect(saved.subarray(data.length).equals(createHash('sha256').update(data).digest())).to.equal(true);
  });

  it('member list and endpoint status', async () => {
    const members = await etcdctl(harness.address, ['member', 'list']);
    expect(members.trim()).to.equal('8e9e05c52164694d, started, default, http://localhost:2380, http://localhost:2379, false');
    const status = JSON.parse(await etcdctl(harness.address, ['endpoint', 'status', '-w', 'json'])) as { Status: Record<string, unknown> }[];
    expect(status[0]!.Status).to.deep.include({ version: '3.4.0', dbSize: 4096, raftIndex: 10 });
    expect(BigInt(status[0]!.Status['leader'] as number)).to.be.a('bigint');
  });
});
