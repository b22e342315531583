import type { Deferral } from '../ports/deferral.js';
/** Leases one renewal batch carries at most (8 bytes each on the wire, about 30 in a log entry). */
const MAX_BATCH = 10_000;

interface Waiter {
  readonly resolve: (ttl: number) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A follower's keep-alives on their way to the leader: every lease renewed while the previous
 * batch is in flight goes into the next one, so the leader sees one request (or the log one
 * entry) per round trip however many keep-alives arrive. Each keep-alive is answered with the
 * TTL its lease was renewed to in that batch, or 0 for a lease that is gone by then.
 */
export class RenewalBatcher {
  private pending = new Map<bigint, Waiter[]>();
  private inFlight = false;
  private scheduled = false;

  constructor(
    private readonly proposeRenewal: (ids: readonly bigint[]) => Promise<ReadonlyMap<bigint, number>>,
    private readonly deferral: Deferral,
  ) {}

  renew(id: bigint): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiters = this.pending.get(id);
      if (waiters === undefined) this.pending.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    this.scheduled = true;
    this.deferral.defer(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.pending.size === 0) return;
    const batch = new Map<bigint, Waiter[]>();
    for (const [id, waiters] of this.pending) {
      if (batch.size >= MAX_BATCH) break;
      batch.set(id, waiters);
    }
    for (const id of batch.keys()) this.pending.delete(id);
    this.inFlight = true;
    try {
      const ttls = await this.proposeRenewal([...batch.keys()]);
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(ttls.get(id) ?? 0);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    } finally {
      this.inFlight = false;
      if (this.pending.size > 0) this.schedule();
    }
  }
}
