import { inject, injectable } from 'inversify';
import type { LeaseCommand } from '../lease/lease-command.js';
import type { LeaseProposer } from '../lease/lease-proposer.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { encodeKvCommand } from './kv-command.js';

/** The lessor's proposals, encoded as the log's KV commands. */
@injectable()
export class LogLeaseProposer implements LeaseProposer {
  constructor(@inject(CONSENSUS) private readonly consensus: Pick<Consensus, 'propose'>) {}

  proposeLease(command: LeaseCommand): Promise<unknown> {
    return this.consensus.propose(encodeKvCommand(command));
  }
}
