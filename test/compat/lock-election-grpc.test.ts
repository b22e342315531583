import { expect } from 'chai';
import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdServiceDefinition, recipeServiceDefinition } from '@cairn/api-grpc';
import { startCairn, type ServerProcess } from './processes.js';

type Reply = Record<string, unknown>;
type Unary = (request: object, callback: (err: ServiceError | null, response: Reply) => void) => void;

/** One etcd service over plain gRPC, so the test sees etcd's fields, codes and messages. */
class ServiceClient {
  readonly client: Client;

  constructor(endpoint: string, definition: ReturnType<typeof etcdServiceDefinition>, name: string) {
    const Ctor = makeGenericClientConstructor(definition, name);
    this.client = new Ctor(endpoint, credentials.createInsecure());
  }

  call(method: string, request: object): Promise<Reply> {
    const c = this.client as unknown as Record<string, Unary>;
    return new Promise((resolve, reject) => c[method]!.call(c, request, (err, r) => (err !== null ? reject(err) : resolve(r))));
  }

  stream(method: string, request: object): ClientReadableStream<Reply> {
    return (this.client as unknown as Record<string, (r: object) => ClientReadableStream<Reply>>)[method]!.call(this.client, request);
  }
}

const b = (s: string): Buffer => Buffer.from(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Settles with what `p` settled with, or 'pending' if it has not within `ms`. */
async function stateAfter<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

describe('the Lock and Election gRPC services of a cairn process', function () {
  this.timeout(60_000);
  let dir: string;
  let server: ServerProcess;
  let kv: ServiceClient;
  let lease: ServiceClient;
  let lock: ServiceClient;
  let election: ServiceClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-recipes-'));
    server = await startCairn(join(dir, 'data'));
    kv = new ServiceClient(server.endpoint, etcdServiceDefinition('KV'), 'KV');
    lease = new ServiceClient(server.endpoint, etcdServiceDefinition('Lease'), 'Lease');
    lock = new ServiceClient(server.endpoint, recipeServiceDefinition('v3lockpb.Lock'), 'Lock');
    election = new ServiceClient(server.endpoint, recipeServiceDefinition('v3electionpb.Election'), 'Election');
  });

  after(async () => {
    for (const c of [kv, lease, lock, election]) c?.client.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const grant = async (ttl: number): Promise<string> => String((await lease.call('LeaseGrant', { TTL: ttl }))['ID']);
  const createRevision = async (key: Buffer): Promise<number> => {
    const r = await kv.call('Range', { key });
    const kvs = r['kvs'] as { create_revision: string }[];
    return kvs.length === 0 ? 0 : Number(kvs[0]!.create_revision);
  };

  it('Lock excludes a second holder until Unlock; the next owner key has a larger create revision (a fencing token)', async () => {
    const [l1, l2] = [await grant(30), await grant(30)];
    const first = await lock.call('Lock', { name: b('jobs'), lease: l1 });
    const firstKey = first['key'] as Buffer;
    expect(firstKey.toString()).to.equal(`jobs/${BigInt(l1).toString(16)}`);
    const second = lock.call('Lock', { name: b('jobs'), lease: l2 });
    expect(await stateAfter(second, 500)).to.equal('pending');
    const firstToken = await createRevision(firstKey);
    await lock.call('Unlock', { key: firstKey });
    const secondKey = (await second)['key'] as Buffer;
    expect(secondKey.toString()).to.equal(`jobs/${BigInt(l2).toString(16)}`);
    expect(await createRevision(secondKey)).to.be.greaterThan(firstToken);

    // The fencing check a holder makes: a write guarded by its owner key's create revision.
    const guarded = (token: number) =>
      kv.call('Txn', {
        compare: [{ key: secondKey, target: 'CREATE', result: 'EQUAL', create_revision: String(token) }],
        success: [{ request_put: { key: b('jobs-output'), value: b(`by ${token}`) } }],
      });
    expect((await guarded(await createRevision(secondKey)))['succeeded']).to.equal(true);
    expect((await guarded(firstToken))['succeeded'], 'a stale token is refused').to.equal(false);
    await lock.call('Unlock', { key: secondKey });
  });

  it('a holder whose lease ends loses the lock and the waiter gets it', async () => {
    const [l1, l2] = [await grant(30), await grant(30)];
    await lock.call('Lock', { name: b('lease-bound'), lease: l1 });
    const waiting = lock.call('Lock', { name: b('lease-bound'), lease: l2 });
    expect(await stateAfter(waiting, 300)).to.equal('pending');
    await lease.call('LeaseRevoke', { ID: l1 });
    expect(((await waiting)['key'] as Buffer).toString()).to.equal(`lease-bound/${BigInt(l2).toString(16)}`);
  });

  it("Lock with an unknown lease fails with etcd's error", async () => {
    const err = await lock.call('Lock', { name: b('x'), lease: '123456789' }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.details).to.equal('etcdserver: requested lease not found');
  });

  it('Election: campaign, leader, observe, proclaim and resign hand leadership on in order', async () => {
    const [la, lb] = [await grant(30), await grant(30)];
    const a = await election.call('Campaign', { name: b('db'), lease: la, value: b('a-1') });
    const leaderA = a['leader'] as Reply;
    expect((leaderA['key'] as Buffer).toString()).to.equal(`db/${BigInt(la).toString(16)}`);
    expect(((await election.call('Leader', { name: b('db') }))['kv'] as Reply)['value']).to.deep.equal(b('a-1'));

    const seen: string[] = [];
    const observe = election.stream('Observe', { name: b('db') });
    observe.on('data', (r: Reply) => seen.push(((r['kv'] as Reply)['value'] as Buffer).toString()));
    observe.on('error', () => undefined);
    const campaignB = election.call('Campaign', { name: b('db'), lease: lb, value: b('b-1') });
    expect(await stateAfter(campaignB, 300)).to.equal('pending');

    await election.call('Proclaim', { leader: leaderA, value: b('a-2') });
    await election.call('Resign', { leader: leaderA });
    const leaderB = (await campaignB)['leader'] as Reply;
    expect(Number(leaderB['rev'])).to.be.greaterThan(Number(leaderA['rev']));
    await election.call('Proclaim', { leader: leaderB, value: b('b-2') });
    for (let i = 0; i < 50 && seen.length < 4; i++) await sleep(50);
    observe.cancel();
    expect(seen).to.deep.equal(['a-1', 'a-2', 'b-1', 'b-2']);

    const stale = await election.call('Proclaim', { leader: leaderA, value: b('late') }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(stale?.details).to.equal('election: not leader');
    await election.call('Resign', { leader: leaderB });
    const none = await election.call('Leader', { name: b('db') }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(none?.details).to.equal('election: no leader');
  });
});
