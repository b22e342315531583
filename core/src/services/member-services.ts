import { inject, injectable } from 'inversify';
import type { CairnServices } from '../api/services.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';
import { CONSENSUS, type Consensus } from '../raft/consensus.js';
import { MemberClusterService } from './cluster-service.js';
import { MemberElectionService } from './election-service.js';
import { RaftKvService } from './kv-service.js';
import { learnerGated } from './learner-gate.js';
import { RaftLeaseService } from './lease-service.js';
import { MemberLockService } from './lock-service.js';
import { MemberMaintenanceService } from './maintenance-service.js';
import { MemberHealth } from './member-health.js';
import { MemberMetrics } from './member-metrics.js';
import { MemberWatchService } from './watch-service.js';
import { MemberAuthService } from './auth-service.js';
import { AuthorizedServices } from './authorized-services.js';

/** The services a member's frontends serve, behind etcd 3.4's learner rule. */
@injectable()
export class MemberServices {
  readonly services: CairnServices;

  constructor(
    @inject(MEMBER_IDENTITY) identity: MemberIdentity,
    @inject(CONSENSUS) node: Pick<Consensus, 'membership' | 'id'>,
    @inject(RaftKvService) kv: RaftKvService,
    @inject(MemberClusterService) cluster: MemberClusterService,
    @inject(MemberMaintenanceService) maintenance: MemberMaintenanceService,
    @inject(RaftLeaseService) lease: RaftLeaseService,
    @inject(MemberLockService) lock: MemberLockService,
    @inject(MemberElectionService) election: MemberElectionService,
    @inject(MemberWatchService) watch: MemberWatchService,
    @inject(MemberHealth) health: MemberHealth,
    @inject(MemberMetrics) metrics: MemberMetrics,
    @inject(MemberAuthService) auth: MemberAuthService,
    @inject(AuthorizedServices) authorized: AuthorizedServices,
  ) {
    const gated = learnerGated({ identity, kv, cluster, maintenance, lock, election, health, metrics, auth }, node);
    // The lease and watch services refuse learners themselves.
    const services: CairnServices = {
      ...gated,
      lease,
      watch,
      authorize: (credentials) => authorized.authorize(credentials, services),
    };
    this.services = services;
  }
}
