import { expect } from 'chai';
import { LifecycleRunner, startOrder } from '../../src/assembly/lifecycle-runner.js';
import type { LifecycleParticipant } from '../../src/ports/lifecycle-participant.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';

/** A participant that records its starts and stops in `events`, and fails where told. */
function participant(events: string[], name: string, after: string[] = [], fail: { start?: boolean; stop?: boolean } = {}): LifecycleParticipant {
  return {
    name,
    after,
    async start() {
      if (fail.start === true) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    async stop() {
      events.push(`stop ${name}`);
      if (fail.stop === true) throw new Error(`${name} cannot stop`);
    },
  };
}

describe('LifecycleRunner', () => {
  it('starts each participant after those it names, in registration order otherwise, and stops in reverse', async () => {
    const events: string[] = [];
    const runner = new LifecycleRunner(new MemoryLogger());
    await runner.start([
      participant(events, 'api', ['raft']),
      participant(events, 'raft', ['state']),
      participant(events, 'metrics'),
      participant(events, 'state', ['storage']),
      participant(events, 'storage'),
    ]);
    expect(events).to.deep.equal(['start storage', 'start state', 'start raft', 'start api', 'start metrics']);
    events.length = 0;
    await runner.stop();
    await runner.stop();
    expect(events).to.deep.equal(['stop metrics', 'stop api', 'stop raft', 'stop state', 'stop storage']);
  });

  it('refuses a name no participant has, a cycle and a name used twice, before starting anything', () => {
    const events: string[] = [];
    expect(() => startOrder([participant(events, 'a', ['b'])])).to.throw('lifecycle participant "a" starts after "b", which no participant is');
    expect(() => startOrder([participant(events, 'a', ['b']), participant(events, 'b', ['a'])])).to.throw(
      'lifecycle participants wait for each other: a -> b -> a',
    );
    expect(() => startOrder([participant(events, 'a'), participant(events, 'a')])).to.throw('two lifecycle participants are named "a"');
    expect(events).to.deep.equal([]);
  });

  it('after a failed start stops what had started, in reverse, and rethrows; a failing stop is logged and the rest still stop', async () => {
    const events: string[] = [];
    const logger = new MemoryLogger();
    const runner = new LifecycleRunner(logger);
    const failure = await runner
      .start([
        participant(events, 'storage'),
        participant(events, 'state', ['storage'], { stop: true }),
        participant(events, 'raft', ['state'], { start: true }),
      ])
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(failure?.message).to.equal('raft cannot start');
    expect(events).to.deep.equal(['start storage', 'start state', 'stop state', 'stop storage']);
    expect(logger.lines().map((l) => [l.message, l.fields['participant']])).to.deep.include(['did not stop cleanly', 'state']);
  });
});
