import { Mutex, Op, type Client, type Session } from '@cairn/client';

/** Counter names: what a URL path segment and a key suffix may safely hold. */
const COUNTER_NAME = /^[a-z0-9-]{1,64}$/;

export class UnknownCounterError extends Error {
  constructor(name: string) {
    super(`invalid counter name "${name}" (use 1 to 64 of a-z, 0-9, -)`);
    this.name = 'UnknownCounterError';
  }
}

/**
 * Named counters in the embedded member, each increment a read-modify-write under the Mutex
 * recipe (clientv3's lock layout, so `etcdctl lock locks/counters/<name>` excludes it too when the
 * member listens), and written only while the lock is still ours: the txn compares the owner key.
 */
export class CounterService {
  /** One session key per prefix: this process's increments take their turn here before the lock. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly session: Session,
  ) {}

  async value(name: string): Promise<bigint> {
    const kv = await this.client.get(this.key(name));
    return kv === undefined ? 0n : BigInt(kv.value.toString());
  }

  /** Adds one and returns the new value. */
  increment(name: string): Promise<bigint> {
    const key = this.key(name);
    const run = this.turn.then(() =>
      new Mutex(this.session, `locks/counters/${name}`).withLock(async (signal, handle) => {
        const current = await this.value(name);
        const next = current + 1n;
        // Fenced: if the lease was lost and another holder took over, this write does nothing.
        const written = await this.client.txn().if(handle.isOwner()).then(Op.put(key, next.toString())).commit({ signal });
        if (!written.succeeded) throw new Error(`lost the lock on counter "${name}" before writing`);
        return next;
      }),
    );
    this.turn = run.catch(() => undefined);
    return run;
  }

  private key(name: string): string {
    if (!COUNTER_NAME.test(name)) throw new UnknownCounterError(name);
    return `counters/${name}`;
  }
}
