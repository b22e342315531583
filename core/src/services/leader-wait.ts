import { inject, injectable } from 'inversify';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { EtcdErrors } from '../api/errors.js';

/**
 * Lets a request that arrives during an election wait for its outcome instead of failing at
 * once, as etcd's requests do; after `timeoutMs` without a leader it fails with "no leader".
 */
@injectable()
export class LeaderWait {
  private waiters: (() => void)[] = [];

  /** Requests made during an election wait this long for a leader, as etcd's do. */
  private readonly timeoutMs: number;

  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(MEMBER_SETTINGS) settings: Pick<MemberSettings, 'electionTimeoutMs'>,
  ) {
    this.timeoutMs = 3 * settings.electionTimeoutMs;
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
