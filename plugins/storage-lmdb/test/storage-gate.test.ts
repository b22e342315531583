import { expect } from 'chai';
import { StorageGate } from '../src/storage-gate.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StorageGate', () => {
  it("starts short operations at once while open, in the caller's turn", () => {
    const gate = new StorageGate();
    const started: number[] = [];
    void gate.run(async () => {
      started.push(1);
    });
    void gate.run(async () => {
      started.push(2);
    });
    expect(started).to.deep.equal([1, 2]);
  });

  it('an exclusive section waits for operations in flight, holds new ones, then starts them in arrival order before anything later', async () => {
    const gate = new StorageGate();
    const events: string[] = [];
    let finishInFlight!: () => void;
    const inFlight = gate.run(
      () =>
        new Promise<void>((resolve) => {
          finishInFlight = resolve;
        }),
    );
    const exclusive = gate.exclusive(async () => {
      events.push('exclusive');
      await turn();
    });
    await turn();
    expect(events).to.deep.equal([]);
    finishInFlight();
    await inFlight;
    while (!gate.isClosed) await turn();
    const queued = [1, 2, 3].map((n) =>
      gate.run(async () => {
        events.push(`queued ${n}`);
      }),
    );
    await exclusive;
    // Started synchronously when the section ended, before this line ran.
    void gate.run(async () => {
      events.push('later');
    });
    await Promise.all(queued);
    expect(events).to.deep.equal(['exclusive', 'queued 1', 'queued 2', 'queued 3', 'later']);
  });

  it('waits for leases without holding up short operations, and dropped leases stop counting', async () => {
    const gate = new StorageGate();
    const release = gate.lease()!;
    let done = false;
    const exclusive = gate.exclusive(async () => {
      done = true;
    });
    await turn();
    let ran = false;
    await gate.run(async () => {
      ran = true;
    });
    expect(ran).to.equal(true);
    expect(done).to.equal(false);
    release();
    await exclusive;
    expect(done).to.equal(true);

    const lingering = gate.lease()!;
    gate.dropLeases();
    await gate.exclusive(async () => undefined);
    lingering();
    await gate.exclusive(async () => undefined);
  });
});
