import { inject, injectable } from 'inversify';
import { CLOCK, type Clock, type TimerHandle } from '../ports/clock.js';
import { LOGGER, type Logger } from '../ports/logger.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { encodeKvCommand } from '../apply/kv-command.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { NO_MEMBER } from '../protocol/raft-types.js';
import { MemberRegistry } from '../cluster/member-registry.js';

/**
 * After each start a member publishes its name and client URLs through the log, as etcd does, so
 * `member list` on any member shows them (and etcdctl can build `--initial-cluster` lines from
 * it). It retries until the entry is applied here, and gives up only when stopped.
 */
@injectable()
export class MemberAttributesPublisher {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly attributes: { readonly name: string; readonly clientURLs: readonly string[] };
  /** Retried every election timeout until applied. */
  private readonly retryMs: number;

  constructor(
    @inject(CONSENSUS) private readonly node: Consensus,
    @inject(MemberRegistry) private readonly registry: MemberRegistry,
    @inject(MEMBER_IDENTITY) identity: MemberIdentity,
    @inject(MEMBER_SETTINGS) settings: Pick<MemberSettings, 'advertiseClientUrls' | 'electionTimeoutMs'>,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
  ) {
    this.attributes = { name: identity.name, clientURLs: settings.advertiseClientUrls };
    this.retryMs = settings.electionTimeoutMs;
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.attempt(), delayMs);
  }

  private published(): boolean {
    const record = this.registry.get(this.node.id);
    return record !== undefined && record.name === this.attributes.name && record.clientURLs.join(',') === this.attributes.clientURLs.join(',');
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.node.isHalted) return;
    const { voters, learners } = this.node.membership();
    const member = voters.includes(this.node.id) || learners.includes(this.node.id);
    // A joining member publishes once it has applied its own addition.
    if (!member || this.node.currentLeader() === NO_MEMBER) return this.schedule(this.retryMs);
    if (this.published()) return;
    try {
      await this.node.propose(encodeKvCommand({ op: 'publishMember', memberId: this.node.id, ...this.attributes }));
      this.logger.info({ clientURLs: this.attributes.clientURLs }, 'published member attributes');
    } catch (err) {
      this.logger.debug({ error: String(err) }, 'publishing member attributes failed; will retry');
      this.schedule(this.retryMs);
    }
  }
}
