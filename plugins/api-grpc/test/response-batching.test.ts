import { expect } from 'chai';
import { Writable } from 'node:stream';
import { batchBufferedResponses } from '../src/response-batching.js';

/** A stream like grpc-js's: one `_write` at a time, each finished later (when HTTP/2 took it). */
function slowStream() {
  const started: string[] = [];
  const pending: ((error?: Error | null) => void)[] = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 1000,
    write(chunk: string, _encoding, callback) {
      started.push(chunk);
      pending.push(callback);
    },
  });
  return { stream, started, pending };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('batched server stream responses', () => {
  it('without batching, responses behind the one in flight start one per finished write', async () => {
    const s = slowStream();
    for (const m of ['a', 'b', 'c', 'd']) s.stream.write(m);
    await turn();
    expect(s.started).to.deep.equal(['a']);
  });

  it('with batching, every buffered response is handed on at once, in order, and the batch finishes with its last', async () => {
    const s = slowStream();
    batchBufferedResponses(s.stream);
    let finished = 0;
    for (const m of ['a', 'b', 'c', 'd']) s.stream.write(m, () => finished++);
    await turn();
    expect(s.started).to.deep.equal(['a']);
    s.pending.shift()!();
    await turn();
    // b, c and d were buffered behind a: one _writev passes them all on.
    expect(s.started).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(finished).to.equal(1);
    s.pending.shift()!();
    s.pending.shift()!();
    await turn();
    expect(finished).to.equal(1);
    s.pending.shift()!();
    await turn();
    expect(finished).to.equal(4);
  });

  it('a failed write fails the stream once, whatever the others do', async () => {
    const s = slowStream();
    batchBufferedResponses(s.stream);
    const errors: string[] = [];
    s.stream.on('error', (e: Error) => errors.push(e.message));
    for (const m of ['a', 'b', 'c']) s.stream.write(m);
    await turn();
    s.pending.shift()!();
    await turn();
    s.pending.shift()!(new Error('stream reset'));
    s.pending.shift()!(new Error('stream reset again'));
    await turn();
    expect(errors).to.deep.equal(['stream reset']);
  });
});
