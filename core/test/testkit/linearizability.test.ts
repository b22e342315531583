import { expect } from 'chai';
import { checkLinearizable, type HistoryOperation } from '../../src/testkit/linearizability/index.js';

const w = (client: number, call: number, ret: number | undefined, value: string, key = 'k'): HistoryOperation => ({
  client,
  key,
  call,
  input: { kind: 'write', value },
  ...(ret === undefined ? {} : { return: ret, output: { kind: 'write' } }),
});
const r = (client: number, call: number, ret: number, value: string | null, key = 'k'): HistoryOperation => ({
  client,
  key,
  call,
  return: ret,
  input: { kind: 'read' },
  output: { kind: 'read', value },
});
const cas = (client: number, call: number, ret: number | undefined, expected: string | null, value: string, ok?: boolean, key = 'k'): HistoryOperation => ({
  client,
  key,
  call,
  input: { kind: 'cas', expected, value },
  ...(ret === undefined || ok === undefined ? {} : { return: ret, output: { kind: 'cas', ok } }),
});

describe('linearizability checker (register: read, write, compare-and-set)', () => {
  it('accepts an empty history and a sequential one', () => {
    expect(checkLinearizable([]).ok).to.equal(true);
    expect(checkLinearizable([r(1, 0, 1, null), w(1, 2, 3, 'a'), r(1, 4, 5, 'a'), cas(1, 6, 7, 'a', 'b', true), r(1, 8, 9, 'b')]).ok).to.equal(true);
  });

  it('accepts concurrent writes read in either order', () => {
    const h = [w(1, 0, 10, 'a'), w(2, 0, 10, 'b'), r(3, 11, 12, 'a')];
    expect(checkLinearizable(h).ok).to.equal(true);
    expect(checkLinearizable([w(1, 0, 10, 'a'), w(2, 0, 10, 'b'), r(3, 11, 12, 'b')]).ok).to.equal(true);
  });

  it('accepts a read that overlaps a write and sees either value', () => {
    expect(checkLinearizable([w(1, 0, 1, 'a'), w(1, 2, 10, 'b'), r(2, 3, 4, 'a'), r(3, 5, 6, 'b')]).ok).to.equal(true);
  });

  it('rejects a stale read: a read that starts after a write finished sees the old value', () => {
    const res = checkLinearizable([w(1, 0, 1, 'a'), w(1, 2, 3, 'b'), r(2, 4, 5, 'a')]);
    expect(res.ok).to.equal(false);
    expect(res.key).to.equal('k');
  });

  it('rejects a read going back in time across clients', () => {
    // The write overlaps both reads, but once one read saw "b" a later read cannot see "a".
    expect(checkLinearizable([w(1, 0, 1, 'a'), w(1, 2, 20, 'b'), r(2, 3, 4, 'b'), r(3, 5, 6, 'a')]).ok).to.equal(false);
  });

  it('rejects a lost write: an acknowledged write that no later read sees', () => {
    expect(checkLinearizable([w(1, 0, 1, 'a'), w(2, 2, 3, 'b'), r(3, 4, 5, 'a'), r(3, 6, 7, 'a')]).ok).to.equal(false);
  });

  it('rejects a compare-and-set that succeeded twice from the same value', () => {
    const h = [w(1, 0, 1, 'a'), cas(2, 2, 10, 'a', 'b', true), cas(3, 2, 10, 'a', 'c', true)];
    expect(checkLinearizable(h).ok).to.equal(false);
    // One success and one failure is fine.
    expect(checkLinearizable([w(1, 0, 1, 'a'), cas(2, 2, 10, 'a', 'b', true), cas(3, 2, 10, 'a', 'c', false)]).ok).to.equal(true);
  });

  it('rejects a failed compare-and-set whose expected value was certainly there', () => {
    expect(checkLinearizable([w(1, 0, 1, 'a'), cas(2, 2, 3, 'a', 'b', false)]).ok).to.equal(false);
  });

  it('lets a timed-out write take effect late, or never', () => {
    // Took effect after a later read had already seen the old value.
    expect(checkLinearizable([w(1, 0, 1, 'a'), w(2, 2, undefined, 'b'), r(3, 3, 4, 'a'), r(3, 5, 6, 'b')]).ok).to.equal(true);
    // Never took effect.
    expect(checkLinearizable([w(1, 0, 1, 'a'), w(2, 2, undefined, 'b'), r(3, 10, 11, 'a')]).ok).to.equal(true);
    // But it cannot take effect before it was called.
    expect(checkLinearizable([w(1, 0, 1, 'a'), r(3, 2, 3, 'b'), w(2, 5, undefined, 'b')]).ok).to.equal(false);
  });

  it('lets a timed-out compare-and-set succeed or fail', () => {
    expect(checkLinearizable([w(1, 0, 1, 'a'), cas(2, 2, undefined, 'a', 'b'), r(3, 5, 6, 'b')]).ok).to.equal(true);
    expect(checkLinearizable([w(1, 0, 1, 'a'), cas(2, 2, undefined, 'a', 'b'), r(3, 5, 6, 'a')]).ok).to.equal(true);
  });

  it('checks each key on its own and names the key that failed', () => {
    const h = [w(1, 0, 1, 'a', 'x'), r(2, 2, 3, 'a', 'x'), w(1, 0, 1, 'a', 'y'), r(2, 2, 3, null, 'y')];
    const res = checkLinearizable(h);
    expect(res.ok).to.equal(false);
    expect(res.key).to.equal('y');
    expect(res.detail).to.have.length(2);
  });

  it('handles a long concurrent history quickly thanks to memoization', () => {
    const h: HistoryOperation[] = [];
    // 12 clients, each writing its own value then reading, all overlapping: linearizable.
    for (let c = 0; c < 12; c++) h.push(w(c, 0, 100, `v${c}`));
    for (let c = 0; c < 12; c++) h.push(r(c, 101, 102, 'v7'));
    for (let i = 0; i < 40; i++) h.push(cas(20 + (i % 4), 200 + i * 10, 205 + i * 10, i === 0 ? 'v7' : `c${i - 1}`, `c${i}`, true));
    expect(checkLinearizable(h).ok).to.equal(true);
    h.push(r(30, 1000, 1001, 'c10'));
    expect(checkLinearizable(h).ok).to.equal(false);
  });
});
