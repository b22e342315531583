import { expect } from 'chai';
import { join } from 'node:path';
import { etcdctl, normalize, type EtcdctlResult } from './etcdctl.js';
import { cairnBesideEtcdFixture } from './cairn-fixture.js';

/** The same session of etcdctl commands, run against Cairn and (when installed) a real etcd 3.4. */
const SESSION: { args: string[]; stdin?: string }[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['put', 'foo2', 'baz'] },
  { args: ['put', 'foo3', 'qux'] },
  { args: ['put', 'a', '1'] },
  { args: ['put', 'b', '2'] },
  { args: ['put', 'c', '3'] },
  { args: ['put', 'foo', 'bar2', '--prev-kv'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['get', 'foo'] },
  { args: ['get', '--prefix', 'foo', '-w', 'json'] },
  { args: ['get', '--from-key', 'b', '-w', 'json'] },
  { args: ['get', '--from-key', '', '--keys-only'] },
  { args: ['get', 'a', 'c', '-w', 'json'] },
  { args: ['get', 'foo', '--rev', '2', '-w', 'json'] },
  { args: ['get', '--prefix', 'foo', '--keys-only'] },
  { args: ['get', '--prefix', 'foo', '--limit', '1', '-w', 'json'] },
  { args: ['get', '--from-key', 'a', '--sort-by', 'MODIFY', '--order', 'DESCEND', '-w', 'json'] },
  { args: ['get', '--prefix', 'foo', '--print-value-only'] },
  { args: ['get', '--prefix', 'foo', '--sort-by', 'VERSION', '--order', 'ASCEND'] },
  { args: ['get', '--prefix', 'foo', '--sort-by', 'CREATE', '--order', 'DESCEND', '-w', 'json'] },
  { args: ['get', '--prefix', 'foo', '--sort-by', 'VALUE'] },
  { args: ['get', '--prefix', 'foo', '--order', 'DESCEND', '--limit', '2'] },
  { args: ['get', 'nothing', '-w', 'json'] },
  { args: ['del', 'foo3', '--prev-kv'] },
  { args: ['del', 'missing'] },
  { args: ['del', '--prefix', 'fo', '-w', 'json'] },
  { args: ['del', 'a', 'c', '--prev-kv', '-w', 'json'] },
  { args: ['txn', '-w', 'json'], stdin: 'mod("b") > "0"\nvalue("c") = "3"\n\nput b 22\nget b\n\nput b failed\n\n' },
  { args: ['txn'], stdin: 'version("b") = "99"\n\nput b never\n\nget b\ndel c\n\n' },
  { args: ['txn', '-i'], stdin: 'create("b") > "0"\n\nput x 1\nput y 2\n\n\n' },
  { args: ['get', '--from-key', '', '-w', 'json'] },
  { args: ['compaction', '5'] },
  { args: ['get', 'b', '--rev', '4'] },
  { args: ['get', 'b', '--rev', '5', '-w', 'json'] },
  { args: ['compaction', '7', '--physical'] },
  { args: ['compaction', '7'] },
  { args: ['get', 'b', '--rev', '1000'] },
  { args: ['compaction', '1000'] },
  { args: ['get', '--from-key', '', '-w', 'json'] },
];

/** What both servers printed, with member-specific IDs and terms blanked; errors keep their etcd message. */
function shown(r: EtcdctlResult): string {
  const error = r.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? '';
  return `${r.code === 0 ? 'ok' : 'failed'}\n${normalize(r.stdout)}${error}`;
}

describe('etcdctl 3.4 against a cairn process', function () {
  this.timeout(180_000);
  const servers = cairnBesideEtcdFixture('compat');

  it('prints what etcd prints for put, get, del, txn and compaction, field by field', async () => {
    const outputs: string[] = [];
    for (const step of SESSION) {
      const mine = shown(await etcdctl(servers.cairn.endpoint, step.args, step.stdin));
      outputs.push(mine);
      if (servers.etcd !== undefined) {
        const theirs = shown(await etcdctl(servers.etcd.endpoint, step.args, step.stdin));
        expect(mine, `etcdctl ${step.args.join(' ')}`).to.equal(theirs);
      }
    }
    // Checked without etcd too: the facts etcd documents for these commands.
    const at = (args: string): string => outputs[SESSION.findIndex((s) => s.args.join(' ') === args)]!;
    expect(at('put foo bar')).to.equal('ok\nOK\n');
    expect(at('put foo bar2 --prev-kv')).to.equal('ok\nOK\nfoo\nbar\n');
    const foo = JSON.parse(at('get foo -w json').split('\n')[1]!) as { header: { revision: number }; kvs: Record<string, unknown>[]; count: number };
    expect(foo.header.revision).to.equal(8);
    expect(foo.kvs[0]).to.deep.equal({ key: 'Zm9v', create_revision: 2, mod_revision: 8, version: 2, value: 'YmFyMg==' });
    expect(at('get --prefix foo --keys-only')).to.equal('ok\nfoo\n\nfoo2\n\nfoo3\n\n');
    expect(at('get --prefix foo --print-value-only')).to.equal('ok\nbar2\nbaz\nqux\n');
    const limited = JSON.parse(at('get --prefix foo --limit 1 -w json').split('\n')[1]!) as { more: boolean; count: number; kvs: unknown[] };
    expect([limited.more, limited.count, limited.kvs.length]).to.deep.equal([true, 3, 1]);
    expect(at('get foo --rev 2 -w json')).to.contain('"version":1,"value":"YmFy"');
    expect(at('del foo3 --prev-kv')).to.equal('ok\n1\nfoo3\nqux\n');
    expect(at('del missing')).to.equal('ok\n0\n');
    expect(at('get b --rev 4')).to.equal('failed\nError: etcdserver: mvcc: required revision has been compacted');
    expect(at('get b --rev 1000')).to.equal('failed\nError: etcdserver: mvcc: required revision is a future revision');
    expect(at('compaction 7')).to.equal('failed\nError: etcdserver: mvcc: required revision has been compacted');
    expect(at('compaction 7 --physical')).to.equal('ok\ncompacted revision 7\n');
  });

  it('endpoint status, health and hashkv describe the member', async () => {
    const status = JSON.parse((await etcdctl(servers.cairn.endpoint, ['endpoint', 'status', '-w', 'json'])).stdout) as {
      Endpoint: string;
      Status: {
        header: { member_id: number; revision: number };
        version: string;
        leader: number;
        raftIndex: number;
        raftTerm: number;
        raftAppliedIndex: number;
        dbSize: number;
      };
    }[];
    expect(status).to.have.length(1);
    const s = status[0]!.Status;
    expect(status[0]!.Endpoint).to.equal(servers.cairn.endpoint);
    expect(s.leader).to.equal(s.header.member_id);
    expect(s.version).to.match(/^3\.4\./);
    expect(s.raftTerm).to.be.greaterThan(0);
    expect(s.raftAppliedIndex).to.be.at.least(s.raftIndex - 1);
    expect(s.dbSize).to.be.greaterThan(0);

    const health = await etcdctl(servers.cairn.endpoint, ['endpoint', 'health']);
    expect(health.code).to.equal(0);
    expect(health.stdout + health.stderr).to.match(new RegExp(`${servers.cairn.endpoint} is healthy: successfully committed proposal`));

    const hash = async (): Promise<{ hash: number; compact_revision: number; header: { revision: number } }> =>
      (
        JSON.parse((await etcdctl(servers.cairn.endpoint, ['endpoint', 'hashkv', '-w', 'json'])).stdout) as {
          HashKV: { hash: number; compact_revision: number; header: { revision: number } };
        }[]
      )[0]!.HashKV;
    const before = await hash();
    expect(before.hash).to.equal((await hash()).hash);
    await etcdctl(servers.cairn.endpoint, ['put', 'hash-me', 'x']);
    const after = await hash();
    expect(after.hash).to.not.equal(before.hash);
    expect(after.header.revision).to.equal(before.header.revision + 1);
  });

  it('member list, alarm list and defrag answer as a single etcd member does', async () => {
    const list = JSON.parse((await etcdctl(servers.cairn.endpoint, ['member', 'list', '-w', 'json'])).stdout) as {
      members: { ID: number; name: string; peerURLs: string[]; clientURLs: string[] }[];
    };
    expect(list.members).to.have.length(1);
    expect(list.members[0]!.name).to.equal('default');
    expect(list.members[0]!.clientURLs).to.deep.equal([`http://${servers.cairn.endpoint}`]);
    expect(list.members[0]!.peerURLs[0]).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const table = await etcdctl(servers.cairn.endpoint, ['member', 'list']);
    expect(table.stdout).to.match(/^[0-9a-f]{1,16}, started, default, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, false\n$/);

    const alarms = await etcdctl(servers.cairn.endpoint, ['alarm', 'list']);
    expect([alarms.code, alarms.stdout]).to.deep.equal([0, '']);
    const defrag = await etcdctl(servers.cairn.endpoint, ['defrag']);
    expect(defrag.stdout).to.equal(`Finished defragmenting etcd member[${servers.cairn.endpoint}]\n`);
  });

  it('snapshot save writes a file that snapshot status reads', async () => {
    await etcdctl(servers.cairn.endpoint, ['put', 'snap/a', '1']);
    await etcdctl(servers.cairn.endpoint, ['put', 'snap/b', '2']);
    const file = join(servers.dir, 'cairn.snapshot.db');
    const saved = await etcdctl(servers.cairn.endpoint, ['snapshot', 'save', file]);
    expect(saved.code, saved.stderr).to.equal(0);
    expect(saved.stdout).to.equal(`Snapshot saved at ${file}\n`);
    const revision = (JSON.parse((await etcdctl(servers.cairn.endpoint, ['get', 'snap/b', '-w', 'json'])).stdout) as { header: { revision: number } }).header
      .revision;
    const status = await etcdctl(servers.cairn.endpoint, ['snapshot', 'status', file, '-w', 'json']);
    expect(status.code, status.stderr).to.equal(0);
    const parsed = JSON.parse(status.stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
    expect(parsed.revision).to.equal(revision);
    expect(parsed.totalKey).to.be.greaterThan(2);
    expect(parsed.totalSize).to.be.greaterThan(0);
  });
});
