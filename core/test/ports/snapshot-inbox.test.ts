import { expect } from 'chai';
import { SnapshotInbox } from '../../src/ports/snapshot-inbox.js';

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream) out.push(...chunk);
  return out;
}

describe('SnapshotInbox', () => {
  it('hands the reader every chunk in order, also those pushed while it waits, then ends', async () => {
    const inbox = new SnapshotInbox();
    inbox.push(Uint8Array.from([1, 2]));
    const reading = readAll(inbox);
    await new Promise((resolve) => setImmediate(resolve));
    inbox.push(Uint8Array.from([3]));
    inbox.end();
    inbox.push(Uint8Array.from([4]));
    expect(await reading).to.deep.equal([1, 2, 3]);
  });

  it('runs a chunk’s onTaken when the reader takes it, and counts what waits', async () => {
    const inbox = new SnapshotInbox();
    const taken: number[] = [];
    for (const n of [1, 2, 3]) inbox.push(new Uint8Array(n), () => taken.push(n));
    expect([inbox.buffered, inbox.bufferedBytes]).to.deep.equal([3, 6]);
    const iterator = inbox[Symbol.asyncIterator]();
    await iterator.next();
    expect(taken).to.deep.equal([1]);
    expect([inbox.buffered, inbox.bufferedBytes]).to.deep.equal([2, 5]);
    inbox.end();
    while (!(await iterator.next()).done);
    expect(taken).to.deep.equal([1, 2, 3]);
  });

  it('a failure reaches the reader after the chunks already received; the first of end and fail counts', async () => {
    const failed = new SnapshotInbox();
    failed.push(Uint8Array.from([7]));
    failed.fail(new Error('the connection broke'));
    failed.end();
    const seen: number[] = [];
    let error: Error | undefined;
    try {
      for await (const chunk of failed) seen.push(...chunk);
    } catch (err) {
      error = err as Error;
    }
    expect(seen).to.deep.equal([7]);
    expect(error?.message).to.equal('the connection broke');

    const ended = new SnapshotInbox();
    ended.end();
    ended.fail(new Error('too late'));
    expect(await readAll(ended)).to.deep.equal([]);
  });

  it('can be read only once', async () => {
    const inbox = new SnapshotInbox();
    inbox.end();
    await readAll(inbox);
    let error: Error | undefined;
    await readAll(inbox).catch((err: Error) => (error = err));
    expect(error?.message).to.match(/read only once/);
  });
});
