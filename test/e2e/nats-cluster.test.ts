import { expect } from 'chai';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdServiceDefinition } from '@cairn/api-grpc';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { initialCluster, ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { eventually, expectLeaderKillLosesNothing, expectSameDataOnEveryMember, memberList, sleep } from './cluster-scenarios.js';
import { natsPeerTransport, NatsServers, skipWithoutNatsServer } from './nats-servers.js';

const MAX_PAYLOAD = 1024 * 1024;

/**
 * etcd's Cluster.MemberAdd over gRPC. etcdctl 3.4 cannot add a nats:// member: it refuses any
 * peer URL scheme but http(s) and unix(s) before calling; the API itself takes any URL.
 */
function memberAddAsLearner(endpoint: string, peerUrl: string): Promise<{ id: string }> {
  const Cluster = makeGenericClientConstructor(etcdServiceDefinition('Cluster'), 'Cluster');
  const cluster = new Cluster(endpoint, credentials.createInsecure()) as unknown as Record<
    'MemberAdd',
    (request: object, callback: (err: ServiceError | null, response: { member: { ID: string } }) => void) => void
  > & { close(): void };
  return new Promise((resolve, reject) => {
    cluster.MemberAdd({ peerURLs: [peerUrl], isLearner: true }, (err, response) => {
      cluster.close();
      if (err !== null) reject(err);
      else resolve({ id: BigInt(response.member.ID).toString(16) });
    });
  });
}

/** A serializable read on `member`: what it has applied itself. */
async function localValue(member: MemberProcess, key: string): Promise<string | undefined> {
  const r = await member.etcdctl(['get', key, '--consistency=s', '--print-value-only']);
  return r.code === 0 && r.stdout !== '' ? r.stdout.trim() : undefined;
}

/**
 * A 3-member cluster of real `cairn` processes whose members reach each other only through a
 * real nats-server (peer URLs nats://m1 ...), driven by the real etcdctl. The steps build on each
 * other, as in cluster.test.ts: boot, serve, lose the leader, grow by a learner that needs a
 * snapshot, shrink, and lose the nats-server itself.
 */
describe('a 3-member cluster over NATS (real processes, one nats-server)', function () {
  this.timeout(120_000);
  let dir: string | undefined;
  let nats: NatsServers | undefined;
  let cluster: ProcessCluster | undefined;
  const clients: RawEtcdClient[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    skipWithoutNatsServer(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-nats-cluster-'));
    nats = await NatsServers.start(join(dir, 'nats'));
    // A small snapshot count and catch-up window: a member that misses a few hundred writes needs a snapshot.
    cluster = await ProcessCluster.start('cairn', dir, 3, {
      transport: natsPeerTransport(() => nats!.urls),
      extraArgs: ['--snapshot-count', '100', '--snapshot-catchup-entries', '50'],
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    await nats?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const members = (): MemberProcess[] => cluster!.members;
  const client = (m: MemberProcess): RawEtcdClient => {
    const c = new RawEtcdClient(m.endpoint);
    clients.push(c);
    return c;
  };

  it('boots through NATS: one leader, nats:// peer URLs, and etcdctl reads the same data on every member', async () => {
    await cluster!.leader();
    await expectSameDataOnEveryMember(members());
    const listed = await memberList(members()[1]!);
    expect(listed.map((l) => l.peerUrl).sort()).to.deep.equal(['nats://m1', 'nats://m2', 'nats://m3']);
  });

  it('kill -9 of the leader: a new leader, and no acknowledged write is lost', async () => {
    await expectLeaderKillLosesNothing(cluster!, client);
  });

  it('a learner added with a nats:// peer URL catches up by a snapshot several times max_payload, is promoted, then removed', async () => {
    const leader = await cluster!.leader();
    const founders = members().slice(0, 3);
    // 8 MiB of values and 200 more writes: the leader snapshots and compacts its log past the start.
    const writer = client(leader);
    const big = Buffer.alloc(256 * 1024, 'v');
    for (let i = 0; i < 32; i++) await writer.call('kv', 'Put', { key: Buffer.from(`big/${i}`), value: big });
    for (let i = 0; i < 200; i++) await writer.call('kv', 'Put', { key: Buffer.from(`small/${i}`), value: Buffer.from('x') });
    await writer.call('kv', 'Put', { key: Buffer.from('catchup/last'), value: Buffer.from('done') });

    const joiner = await cluster!.joiner('m4', (self) => initialCluster([...founders.map((m) => m.spec), self], cluster!.options.transport));
    const refused = await leader.etcdctl(['member', 'add', 'm4', '--learner', `--peer-urls=${joiner.peerUrl}`]);
    expect(refused.stderr, 'etcdctl 3.4 checks the scheme itself').to.include('URL scheme must be http, https, unix, or unixs');
    const { id } = await memberAddAsLearner(leader.endpoint, joiner.peerUrl);
    expect((await memberList(leader)).find((m) => m.id === id)?.peerUrl).to.equal('nats://m4');

    await joiner.start();
    await eventually('the learner has applied the last write', 60_000, async () => (await localValue(joiner, 'catchup/last')) === 'done');
    const stored = /"bytes":(\d+)[^\n]*snapshot received and stored|snapshot received and stored[^\n]*"bytes":(\d+)/.exec(joiner.log());
    expect(stored, 'the learner received a snapshot over NATS').to.not.equal(null);
    const bytes = Number(stored![1] ?? stored![2]);
    console.log(`      the learner received a ${(bytes / 2 ** 20).toFixed(1)} MiB snapshot (max_payload ${MAX_PAYLOAD / 2 ** 20} MiB)`);
    expect(bytes).to.be.greaterThan(4 * MAX_PAYLOAD);
    expect(joiner.log()).to.match(/installed snapshot/);
    expect((await memberList(leader)).find((m) => m.id === id)?.isLearner).to.equal(true);

    await eventually('the learner is promoted', 20_000, async () => (await leader.etcdctl(['member', 'promote', id])).code === 0);
    await eventually('the promoted member takes writes', 10_000, async () => (await joiner.etcdctl(['put', 'from-m4', 'yes'])).code === 0);
    expect((await memberList(joiner)).find((m) => m.id === id)?.isLearner).to.equal(false);

    const removed = await leader.etcdctl(['member', 'remove', id]);
    expect(removed.code, removed.stderr).to.equal(0);
    await joiner.stop();
    expect((await memberList(leader)).map((m) => m.id)).to.not.include(id);
    for (const m of founders) {
      const r = await m.etcdctl(['put', `after-remove/${m.spec.name}`, 'ok']);
      expect(r.code, `${m.spec.name}: ${r.stderr}`).to.equal(0);
    }
  });

  it('the nats-server is killed and started again: the cluster recovers by itself', async () => {
    const server = nats!.servers[0]!;
    const founders = members().slice(0, 3);
    await server.kill();
    await sleep(1_500);
    await server.start();
    const restartedAt = Date.now();
    await cluster!.leader(30_000);
    for (const m of founders) {
      await eventually(`${m.spec.name} takes a write`, 30_000, async () => (await m.etcdctl(['put', `after-nats-restart/${m.spec.name}`, 'ok'])).code === 0);
    }
    console.log(`      every member took a write ${Date.now() - restartedAt} ms after the nats-server came back`);
    for (const m of founders) {
      expect(m.running, `${m.spec.name} still runs`).to.equal(true);
      expect(m.log()).to.match(/reconnected to NATS/);
    }
    const lastKey = `after-nats-restart/${founders[2]!.spec.name}`;
    await eventually('every member applied every write', 10_000, async () =>
      (await Promise.all(founders.map((m) => localValue(m, lastKey)))).every((v) => v === 'ok'),
    );
  });
});
