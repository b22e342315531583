import { expect } from 'chai';
import { type Etcd3, EtcdLockFailedError } from 'etcd3';
import { cairnProcessFixture } from './cairn-fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the etcd3 npm client's lock() and election() against a cairn process", function () {
  this.timeout(60_000);
  const cairn = cairnProcessFixture('etcd3-recipes');
  let a: Etcd3;
  let b: Etcd3;
  before(() => {
    a = cairn.etcd3();
    b = cairn.etcd3();
  });

  it('lock(): a held lock cannot be acquired by another client until released; do() runs under it', async () => {
    const held = await a.lock('report').ttl(10).acquire();
    const refused = await b
      .lock('report')
      .acquire()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).to.be.instanceOf(EtcdLockFailedError);
    await held.release();
    const ran = await b.lock('report').do(async () => 'under the lock');
    expect(ran).to.equal('under the lock');
    // Released again by do(): a third acquisition works.
    await (await a.lock('report').acquire()).release();
  });

  it('election(): campaign, observe, resign hand leadership to the next campaigner', async () => {
    const observer = await a.election('scheduler').observe();
    const changes: (string | undefined)[] = [];
    observer.on('change', (leader) => changes.push(leader));
    const first = a.election('scheduler').campaign('node-a');
    await new Promise<void>((resolve, reject) => {
      first.on('elected', () => resolve());
      first.on('error', reject);
    });
    const second = b.election('scheduler').campaign('node-b');
    let secondElected = false;
    second.on('elected', () => {
      secondElected = true;
    });
    second.on('error', () => undefined);
    await sleep(500);
    expect(secondElected, 'two leaders at once').to.equal(false);
    expect(await b.election('scheduler').leader()).to.equal('node-a');

    await first.resign();
    for (let i = 0; i < 100 && !secondElected; i++) await sleep(50);
    expect(secondElected).to.equal(true);
    expect(await a.election('scheduler').leader()).to.equal('node-b');
    for (let i = 0; i < 50 && !changes.includes('node-b'); i++) await sleep(50);
    expect(changes).to.include('node-b');
    expect(observer.leader()).to.equal('node-b');
    await observer.cancel();
    await second.resign();
  });
});
