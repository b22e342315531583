import type { Clock } from '../ports/clock.js';
import type { RaftNode } from '../raft/node.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { EtcdErrors } from '../api/errors.js';

/**
 * Lets a request that arrives during an election wait for its outcome instead of failing at
 * once, as etcd's requests do; after `timeoutMs` without a leader it fails with "no leader".
 */
export class LeaderWait {
  private waiters: (() => void)[] = [];

  constructor(private readonly node: RaftNode, private readonly clock: Clock, private readonly timeoutMs: number) {
    node.onLeaderChange((leader) => {
      if (leader === NO_MEMBER) return;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves at once when a leader is known, else when one is elected; rejects after the timeout. */
  known(): Promise<void> {
    if (this.node.currentLeader() !== NO_MEMBER) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(EtcdErrors.noLeader());
      }, this.timeoutMs);
      this.waiters.push(wake);
    });
  }
}
