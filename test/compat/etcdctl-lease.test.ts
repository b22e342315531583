import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { etcdctl, normalize, type EtcdctlResult } from './etcdctl.js';
import { ETCDCTL_BIN } from './processes.js';
import { cairnBesideEtcdFixture } from './cairn-fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lease ID in etcdctl's output: hex in text, decimal in JSON. */
/** etcdctl prints lease IDs as 16 hex digits (%016x). */
const hex = (id: bigint): string => id.toString(16).padStart(16, '0');
const leaseIdOf = (grant: EtcdctlResult): bigint => BigInt(`0x${/lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]}`);

/**
 * One session of etcdctl lease commands on one server, printed with what differs between servers
 * blanked: lease IDs become L1, L2... in order of appearance; remaining TTLs, which depend on
 * timing, become N (checked separately).
 */
async function leaseSession(endpoint: string): Promise<{ transcript: string[]; remaining: number[] }> {
  const ids: bigint[] = [];
  const transcript: string[] = [];
  const remaining: number[] = [];
  const blank = (text: string): string => {
    let out = normalize(text);
    ids.forEach((id, i) => {
      out = out.replaceAll(hex(id), `L${i + 1}`).replaceAll(id.toString(), `L${i + 1}`);
    });
    for (const m of out.matchAll(/remaining\((\d+)s\)|"ttl":(\d+)/g)) remaining.push(Number(m[1] ?? m[2]));
    return (
      out
        .replace(/remaining\(\d+s\)/g, 'remaining(Ns)')
        .replace(/"ttl":\d+/g, '"ttl":N')
        // etcd keeps a lease's keys in a Go map, so it lists them in any order: compare them sorted.
        .replace(/attached keys\(\[([^\]]*)\]\)/g, (_all, keys: string) => `attached keys([${keys.split(' ').sort().join(' ')}])`)
        .replace(/"keys":\[([^\]]*)\]/g, (_all, keys: string) => `"keys":[${keys.split(',').sort().join(',')}]`)
    );
  };
  const run = async (...args: string[]): Promise<EtcdctlResult> => {
    const r = await etcdctl(endpoint, args);
    const error = r.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? '';
    transcript.push(`$ ${blank(args.join(' '))}\n${r.code === 0 ? 'ok' : 'failed'}\n${blank(r.stdout)}${blank(error)}`);
    return r;
  };
  const short = await etcdctl(endpoint, ['lease', 'grant', '100']);
  ids.push(leaseIdOf(short));
  transcript.push(blank(short.stdout));
  const id = hex(ids[0]!);
  await run('put', '--lease', id, 'lk1', 'v1');
  await run('put', '--lease', id, 'lk2', 'v2');
  await run('put', 'plain', 'p');
  await run('lease', 'timetolive', id);
  await run('lease', 'timetolive', id, '--keys');
  await run('lease', 'timetolive', id, '--keys', '-w', 'json');
  await run('lease', 'list');
  await run('lease', 'keep-alive', '--once', id);
  await run('get', '--prefix', 'lk', '-w', 'json');
  // Overwritten without the lease, lk2 leaves it.
  await run('put', 'lk2', 'v2b');
  await run('lease', 'timetolive', id, '--keys');
  await run('lease', 'revoke', id);
  await run('get', '--from-key', '', '-w', 'json');
  await run('lease', 'timetolive', id);
  await run('lease', 'timetolive', id, '-w', 'json');
  await run('lease', 'revoke', id);
  await run('lease', 'keep-alive', '--once', id);
  await run('lease', 'timetolive', '1234', '-w', 'json');
  await run('put', '--lease', '1234', 'x', 'y');
  await run('lease', 'grant', '9000000001');
  const min = await etcdctl(endpoint, ['lease', 'grant', '0']);
  ids.push(leaseIdOf(min));
  transcript.push(blank(min.stdout));
  await run('lease', 'list');
  return { transcript, remaining };
}

describe('etcdctl 3.4 lease commands against a cairn process', function () {
  this.timeout(120_000);
  const servers = cairnBesideEtcdFixture('lease');

  it('grant, put --lease, timetolive --keys, list, keep-alive --once, revoke and the unknown-lease answers print what etcd prints', async () => {
    const ours = await leaseSession(servers.cairn.endpoint);
    const text = ours.transcript.join('\n');
    expect(text).to.contain('lease L1 granted with TTL(100s)');
    expect(text).to.contain('granted with TTL(100s), remaining(Ns), attached keys([lk1 lk2])');
    expect(text).to.contain('lease L1 keepalived with TTL(100)');
    expect(text).to.contain('lease L1 revoked');
    expect(text).to.contain('lease L1 already expired');
    expect(text).to.contain('Error: etcdserver: requested lease not found');
    expect(text).to.contain('Error: failed to grant lease (etcdserver: too large lease TTL)');
    // The minimum TTL: etcd's rule on a 100 ms election timeout with 10 ms heartbeats is 1 s.
    expect(text).to.contain('lease L2 granted with TTL(1s)');
    for (const r of ours.remaining) expect(r).to.be.within(95, 100);
    if (servers.etcd !== undefined) {
      const theirs = await leaseSession(servers.etcd.endpoint);
      for (let i = 0; i < theirs.transcript.length; i++) expect(ours.transcript[i], `step ${i}`).to.equal(theirs.transcript[i]);
      expect(ours.transcript.length).to.equal(theirs.transcript.length);
    }
  });

  it('lease keep-alive keeps a short lease and its key alive; after etcdctl is killed the lease expires and the key goes', async () => {
    const endpoint = servers.cairn.endpoint;
    const id = hex(leaseIdOf(await etcdctl(endpoint, ['lease', 'grant', '2'])));
    expect((await etcdctl(endpoint, ['put', '--lease', id, 'alive', 'yes'])).code).to.equal(0);
    const child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, 'lease', 'keep-alive', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise((done) => child.once('exit', done));
    try {
      // Three TTLs of keep-alives (etcdctl renews every TTL/3).
      await sleep(6_000);
      expect((await etcdctl(endpoint, ['get', 'alive', '--print-value-only'])).stdout).to.equal('yes\n');
      expect(out).to.match(new RegExp(`lease ${id} keepalived with TTL\\(2\\)`));
      expect(out.split('\n').filter((l) => l.includes('keepalived')).length).to.be.greaterThan(3);
    } finally {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    const killedAt = Date.now();
    let gone = false;
    while (!gone && Date.now() - killedAt < 10_000) {
      gone = (await etcdctl(endpoint, ['get', 'alive', '--print-value-only'])).stdout === '';
      if (!gone) await sleep(200);
    }
    expect(gone, 'the key of the expired lease was deleted').to.equal(true);
    const waited = Date.now() - killedAt;
    console.log(`      expired ${waited} ms after the last keep-alive stream went (TTL 2 s)`);
    expect(waited).to.be.greaterThan(500);
    expect((await etcdctl(endpoint, ['lease', 'timetolive', id])).stdout).to.equal(`lease ${id} already expired\n`);
  });

  it('keeps leases and their keys across a restart of the member', async () => {
    const endpoint = servers.cairn.endpoint;
    const id = hex(leaseIdOf(await etcdctl(endpoint, ['lease', 'grant', '600'])));
    await etcdctl(endpoint, ['put', '--lease', id, 'durable', 'd']);
    // Stopped by PID and started again on the same data dir and ports (its cluster ID comes from them).
    const cairn = await servers.restartCairn();
    const after = await etcdctl(cairn.endpoint, ['lease', 'timetolive', id, '--keys']);
    expect(after.stdout).to.match(new RegExp(`lease ${id} granted with TTL\\(600s\\), remaining\\(\\d+s\\), attached keys\\(\\[durable\\]\\)`));
    await etcdctl(cairn.endpoint, ['lease', 'revoke', id]);
    expect((await etcdctl(cairn.endpoint, ['get', 'durable'])).stdout).to.equal('');
  });
});
