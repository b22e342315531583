import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessCluster } from '../e2e/cluster-processes.js';
import { etcdctl } from './etcdctl.js';
import { skipWithoutEtcdctl } from './processes.js';

interface StatusEntry {
  readonly Endpoint: string;
  readonly Status: { readonly header: { readonly member_id: number }; readonly leader: number; readonly version: string };
}

/** `endpoint status -w json` keeps uint64 IDs as JSON numbers: read them as digit strings so they survive parsing. */
function statusEntries(stdout: string): { endpoint: string; memberId: string; leader: string; version: string }[] {
  const exact = stdout.replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"');
  return (JSON.parse(exact) as StatusEntry[]).map((e) => ({
    endpoint: e.Endpoint,
    memberId: String(e.Status.header.member_id),
    leader: String(e.Status.leader),
    version: e.Status.version,
  }));
}

/**
 * etcdctl 3.4 given endpoints in URL form dials the Maintenance calls (Status, HashKV, Defragment)
 * through `passthrough:///http://...`, so their HTTP/2 `:authority` is `http://127.0.0.1:PORT` —
 * as it is for every `--cluster` form, which dials the members' advertised client URLs. Node's
 * HTTP/2 server would reset those streams; the gRPC frontend repairs the authority.
 */
describe('etcdctl with endpoints in URL form against a 3-member cluster', function () {
  this.timeout(120_000);
  let dir: string | undefined;
  let cluster: ProcessCluster | undefined;
  let urls: string[] = [];

  before(async function () {
    skipWithoutEtcdctl(this, 'the repair is for what the real etcdctl sends');
    dir = await mkdtemp(join(tmpdir(), 'cairn-url-endpoints-'));
    cluster = await ProcessCluster.start('cairn', dir, 3);
    await cluster.leader();
    urls = cluster.members.map((m) => `http://${m.endpoint}`);
  });
  after(async () => {
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('endpoint status on each member, all agreeing on one leader', async () => {
    const entries = [];
    for (const url of urls) {
      const r = await etcdctl(url, ['endpoint', 'status', '-w', 'json']);
      expect(r.code, r.stderr).to.equal(0);
      entries.push(...statusEntries(r.stdout));
    }
    expect(entries.map((e) => e.endpoint)).to.deep.equal(urls);
    expect(new Set(entries.map((e) => e.memberId)).size).to.equal(3);
    expect(new Set(entries.map((e) => e.leader)).size).to.equal(1);
    expect(entries.map((e) => e.memberId)).to.include(entries[0]!.leader);
  });

  it('endpoint hashkv and defrag on each member', async () => {
    for (const url of urls) {
      const hashkv = await etcdctl(url, ['endpoint', 'hashkv']);
      expect(hashkv.code, hashkv.stderr).to.equal(0);
      expect(hashkv.stdout).to.match(new RegExp(`^${url}, \\d+\\n$`));
      const defrag = await etcdctl(url, ['defrag']);
      expect(defrag.code, defrag.stderr).to.equal(0);
      expect(defrag.stdout).to.equal(`Finished defragmenting etcd member[${url}]\n`);
    }
  });

  it('endpoint status --cluster lists every member, from any of them', async () => {
    for (const url of urls) {
      const r = await etcdctl(url, ['endpoint', 'status', '--cluster', '-w', 'json']);
      expect(r.code, r.stderr).to.equal(0);
      const entries = statusEntries(r.stdout);
      expect(entries.map((e) => e.endpoint).sort()).to.deep.equal([...urls].sort());
      expect(new Set(entries.map((e) => e.memberId)).size).to.equal(3);
      expect(new Set(entries.map((e) => e.leader)).size).to.equal(1);
    }
  });

  it('endpoint hashkv --cluster and defrag --cluster reach every member', async () => {
    const hashkv = await etcdctl(urls[0]!, ['endpoint', 'hashkv', '--cluster']);
    expect(hashkv.code, hashkv.stderr).to.equal(0);
    expect(
      hashkv.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(', ')[0])
        .sort(),
    ).to.deep.equal([...urls].sort());
    const defrag = await etcdctl(urls[1]!, ['defrag', '--cluster']);
    expect(defrag.code, defrag.stderr).to.equal(0);
    expect(defrag.stdout.trim().split('\n').sort()).to.deep.equal(urls.map((u) => `Finished defragmenting etcd member[${u}]`).sort());
  });

  it('endpoint health --cluster finds every member healthy', async () => {
    const r = await etcdctl(urls[2]!, ['endpoint', 'health', '--cluster']);
    expect(r.code, r.stderr).to.equal(0);
    // etcdctl 3.4 prints health lines to stderr.
    const healthy = `${r.stdout}${r.stderr}`.split('\n').filter((line) => / is healthy: successfully committed proposal/.test(line));
    expect(healthy.map((line) => line.split(' is healthy')[0]).sort()).to.deep.equal([...urls].sort());
  });
});
