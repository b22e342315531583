import { expect } from 'chai';
import { BoundedQueue } from '../../src/ports/bounded-queue.js';

describe('BoundedQueue', () => {
  it('is first in, first out, across the end of its ring', () => {
    const queue = new BoundedQueue<number>(3);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(queue.push(i)).to.equal(true);
      if (queue.length === 2) out.push(queue.shift()!);
    }
    while (queue.length > 0) out.push(queue.shift()!);
    expect(out).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.shift()).to.equal(undefined);
  });

  it('refuses an item when full instead of growing, and takes one again once there is room', () => {
    const queue = new BoundedQueue<string>(2);
    expect([queue.push('a'), queue.push('b'), queue.push('c')]).to.deep.equal([true, true, false]);
    expect(queue.length).to.equal(2);
    expect(queue.shift()).to.equal('a');
    expect(queue.push('d')).to.equal(true);
    expect([queue.shift(), queue.shift()]).to.deep.equal(['b', 'd']);
  });

  it('clear empties it and says how many items it held', () => {
    const queue = new BoundedQueue<number>(4);
    queue.push(1);
    queue.push(2);
    expect(queue.clear()).to.equal(2);
    expect(queue.length).to.equal(0);
    expect(queue.push(3)).to.equal(true);
    expect(queue.shift()).to.equal(3);
  });

  it('needs a positive whole capacity', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedQueue(capacity)).to.throw(RangeError, /positive integer/);
  });
});
