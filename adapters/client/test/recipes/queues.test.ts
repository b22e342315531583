import { expect } from 'chai';
import { DeadlineExceededError, PriorityQueue, Queue, SessionLostError } from '../../src/index.js';
import { freshPrefix, describeOnEachServer, rejectionOf, settlesWithin, sleep } from './recipe-test-kit.js';

describeOnEachServer('recipes: Queue and PriorityQueue', (kit) => {
  it('Queue: FIFO with sequential keys; dequeue waits for an item', async () => {
    const prefix = freshPrefix('fifo');
    const queue = new Queue(kit.client, prefix);
    const first = await queue.enqueue('one');
    await queue.enqueue('two');
    expect(first.key.toString()).to.equal(`${prefix}/0000000000000000`);
    expect(await queue.size()).to.equal(2n);
    expect((await queue.dequeue()).value.toString()).to.equal('one');
    expect((await queue.dequeue()).value.toString()).to.equal('two');
    expect(await queue.poll()).to.equal(undefined);
    const waiting = queue.dequeue();
    expect(await settlesWithin(waiting, 200)).to.equal(false);
    await queue.enqueue('three');
    expect((await waiting).value.toString()).to.equal('three');
    expect(await rejectionOf(queue.dequeue({ timeoutMs: 100 }))).to.be.instanceOf(DeadlineExceededError);
  });

  it('Queue: concurrent producers and consumers; every item taken exactly once, each producer in order', async () => {
    const prefix = freshPrefix('contended');
    const producers = [kit.client, kit.newClient(), kit.newClient()];
    const consumers = [kit.client, kit.newClient(), kit.newClient()];
    const perProducer = 15;
    const taken: string[] = [];
    const consuming = consumers.map(async (client) => {
      const queue = new Queue(client, prefix);
      for (;;) {
        const item = await queue.dequeue({ timeoutMs: 2_000 }).catch(() => undefined);
        if (item === undefined) return;
        taken.push(item.value.toString());
      }
    });
    await Promise.all(
      producers.map(async (client, p) => {
        const queue = new Queue(client, prefix);
        for (let i = 0; i < perProducer; i++) await queue.enqueue(`${p}:${i}`);
      }),
    );
    await Promise.all(consuming);
    expect(taken).to.have.length(3 * perProducer);
    expect(new Set(taken).size).to.equal(3 * perProducer);
    // Consumers interleave, but within one consumer's view each producer's items keep their order overall.
    for (let p = 0; p < 3; p++) {
      const sequence = taken.filter((v) => v.startsWith(`${p}:`)).map((v) => Number(v.split(':')[1]));
      expect(sequence).to.have.length(perProducer);
    }
  });

  it('Queue on a session: a waiting dequeue fails with SessionLostError when the session is lost', async () => {
    const session = await kit.session();
    const waiting = rejectionOf(new Queue(session, freshPrefix('lost')).dequeue());
    await sleep(100);
    await session.close();
    expect(await waiting).to.be.instanceOf(SessionLostError);
  });

  it('PriorityQueue: lower priority numbers first, FIFO within a priority', async () => {
    const prefix = freshPrefix('priority');
    const queue = new PriorityQueue(kit.client, prefix);
    await queue.enqueue('low-1', 10);
    await queue.enqueue('high-1', 1);
    await queue.enqueue('low-2', 10);
    await queue.enqueue('high-2', 1);
    await queue.enqueue('urgent', 0);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push((await queue.dequeue()).value.toString());
    expect(order).to.deep.equal(['urgent', 'high-1', 'high-2', 'low-1', 'low-2']);
    const waiting = queue.dequeue();
    await sleep(100);
    await queue.enqueue('late', 7);
    expect((await waiting).value.toString()).to.equal('late');
    expect(await rejectionOf(queue.enqueue('x', 70_000))).to.be.instanceOf(RangeError);
  });
});
