import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { RawEtcdClient } from '../compat/raw-kv-client.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { natsPeerTransport, NatsServers, skipWithoutNatsServer } from './nats-servers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Longest time between two acknowledged puts through one member while `during` runs. */
async function longestStall(member: MemberProcess, during: () => Promise<void>): Promise<{ stallMs: number; acked: number }> {
  const client = new RawEtcdClient(member.endpoint);
  let writing = true;
  let last = Date.now();
  let stallMs = 0;
  let acked = 0;
  const writer = (async () => {
    for (let n = 0; writing; n++) {
      try {
        await client.call('kv', 'Put', { key: Buffer.from(`routed/${n}`), value: Buffer.from(String(n)) });
        const now = Date.now();
        stallMs = Math.max(stallMs, now - last);
        last = now;
        acked++;
      } catch {
        await sleep(20);
      }
    }
  })();
  try {
    await during();
  } finally {
    writing = false;
    await writer;
    client.close();
  }
  return { stallMs: Math.max(stallMs, Date.now() - last), acked };
}

/**
 * Three routed nats-servers (one NATS cluster), each member connected to its own. Killing the
 * server a member uses costs that member one reconnect, to another server it learned from the
 * NATS cluster: no restart, and writes through it go on after a short stall.
 */
describe('a 3-member cluster over three routed nats-servers (real processes)', function () {
  this.timeout(120_000);
  let dir: string | undefined;
  let nats: NatsServers | undefined;
  let cluster: ProcessCluster | undefined;

  before(async function () {
    skipWithoutEtcdctl(this);
    skipWithoutNatsServer(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-nats-routed-'));
    nats = await NatsServers.start(join(dir, 'nats'), 3);
    // Member mN knows only server N; it learns the others from the NATS cluster itself.
    cluster = await ProcessCluster.start('cairn', dir, 3, { transport: natsPeerTransport((spec) => [nats!.urls[Number(spec.name.slice(1)) - 1]!]) });
  });

  after(async () => {
    await cluster?.stop();
    await nats?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('members on different servers form one cluster through the routes', async () => {
    await cluster!.leader();
    const r = await cluster!.members[0]!.etcdctl(['put', 'across', 'routes']);
    expect(r.code, r.stderr).to.equal(0);
    for (const m of cluster!.members) {
      let got = '';
      for (let i = 0; i < 50 && got !== 'routes'; i++) {
        got = (await m.etcdctl(['get', 'across', '--print-value-only', '--consistency=s'])).stdout.trim();
        if (got !== 'routes') await sleep(100);
      }
      expect(got, m.spec.name).to.equal('routes');
    }
  });

  it("killing the leader's nats-server costs it one reconnect to another server; writes through it go on", async () => {
    const leader = await cluster!.leader();
    const index = Number(leader.spec.name.slice(1)) - 1;
    const server = nats!.servers[index]!;
    const { stallMs, acked } = await longestStall(leader, async () => {
      await sleep(1_000);
      await server.kill();
      await sleep(4_000);
    });
    console.log(`      killed ${server.name} (pid gone) under ${leader.spec.name}: longest stall of its writes ${stallMs} ms, ${acked} writes acknowledged`);
    const reconnected = /"server":"127\.0\.0\.1:(\d+)"[^\n]*reconnected to NATS|reconnected to NATS[^\n]*"server":"127\.0\.0\.1:(\d+)"/.exec(leader.log());
    expect(reconnected, 'the member reconnected').to.not.equal(null);
    expect(Number(reconnected![1] ?? reconnected![2])).to.not.equal(server.port);
    expect(cluster!.members.every((m) => m.running)).to.equal(true);
    expect(stallMs, 'writes through the member stalled for at most a reconnect and an election').to.be.lessThan(3_000);
    await server.start();
  });
});
