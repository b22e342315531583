import { ContainerModule, type Newable } from 'inversify';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import { BackendQuota } from '../alarm/backend-quota.js';
import { NO_SPACE_ALARM } from '../alarm/no-space-alarm.js';
import { RESPONSE_HEADERS } from '../api/response-headers.js';
import { CAIRN_SERVICES, type CairnServices } from '../api/services.js';
import { KvStateMachine } from '../apply/kv-state-machine.js';
import { LogLeaseProposer } from '../apply/log-lease-proposer.js';
import { MemberResponseHeaders } from '../apply/member-response-headers.js';
import { MemberRegistry } from '../cluster/member-registry.js';
import { LeaseApplier } from '../lease/lease-applier.js';
import { LeaseIdGenerator } from '../lease/lease-id-generator.js';
import { LEASE_PROPOSER } from '../lease/lease-proposer.js';
import { LeaseStore } from '../lease/lease-store.js';
import { Lessor } from '../lease/lessor.js';
import { LEASE_LOOKUP } from '../mvcc/lease-lookup.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { WatchHub } from '../mvcc/watch-hub.js';
import { HEALTH_CHECK } from '../ports/health-check.js';
import { LIFECYCLE_PARTICIPANT } from '../ports/lifecycle-participant.js';
import { METRICS_COLLECTOR } from '../ports/metrics-collector.js';
import { STATE_MACHINE } from '../raft/state-machine.js';
import { MemberClusterService } from '../services/cluster-service.js';
import { CommitFeed } from '../services/commit-feed.js';
import { MemberElectionService } from '../services/election-service.js';
import { MemberHealthVerdict } from '../services/health-verdict.js';
import { DataCorruptionCheck, LinearizableReadCheck, NonLearnerCheck, SerializableReadCheck } from '../services/kernel-health-checks.js';
import { RaftKvService } from '../services/kv-service.js';
import { LeaderWait } from '../services/leader-wait.js';
import { RaftLeaseService } from '../services/lease-service.js';
import { MemberLockService } from '../services/lock-service.js';
import { MemberMaintenanceService } from '../services/maintenance-service.js';
import { MemberAttributesPublisher } from '../services/member-attributes-publisher.js';
import { MemberHealth } from '../services/member-health.js';
import { MemberMetrics } from '../services/member-metrics.js';
import { MemberServices } from '../services/member-services.js';
import { MvccMetrics } from '../services/mvcc-metrics.js';
import { NoSpaceAlarmRaiser } from '../services/no-space-alarm-raiser.js';
import { PrefixWaits } from '../services/prefix-waits.js';
import { ServerMetrics } from '../services/server-metrics.js';
import { MemberWatchService } from '../services/watch-service.js';
import { AuthApplier } from '../auth/auth-applier.js';
import { AuthStore } from '../auth/auth-store.js';
import { createTokenProvider } from '../auth/auth-tokens.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import { TOKEN_PROVIDER, type TokenProvider } from '../auth/token-provider.js';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';
import { AuthMetrics } from '../services/auth-metrics.js';
import { MemberAuthService } from '../services/auth-service.js';
import { AuthorizedServices } from '../services/authorized-services.js';
import { AppliedStateParticipant, bindParticipant, MetricsParticipant } from './lifecycle-participants.js';

/**
 * The etcd application on top of Raft: MVCC as the state machine (with leases, alarms and member
 * records applied beside it) and etcd's services over it. Every class is a singleton of the
 * member's container; the values it needs (identity, settings, founders, Raft's config) and the
 * ports come from the assembly and the plugins.
 */
export const etcdApplication = new ContainerModule(({ bind }) => {
  const components: readonly Newable<object>[] = [
    MvccStore,
    WatchHub,
    LeaseStore,
    LeaseApplier,
    Lessor,
    LeaseIdGenerator,
    AlarmRegistry,
    BackendQuota,
    MemberRegistry,
    AuthStore,
    AuthApplier,
    PasswordHasher,
    KvStateMachine,
    CommitFeed,
    LeaderWait,
    RaftKvService,
    MemberMaintenanceService,
    MemberClusterService,
    RaftLeaseService,
    PrefixWaits,
    MemberLockService,
    MemberElectionService,
    MemberWatchService,
    MemberAttributesPublisher,
    MemberHealthVerdict,
    MemberHealth,
    MemberMetrics,
    MemberAuthService,
    AuthorizedServices,
    MemberServices,
  ];
  for (const component of components) bind(component).toSelf().inSingletonScope();
  bind(STATE_MACHINE).toService(KvStateMachine);
  bind(RESPONSE_HEADERS).to(MemberResponseHeaders).inSingletonScope();
  bind(LEASE_LOOKUP).toService(LeaseStore);
  bind(LEASE_PROPOSER).to(LogLeaseProposer).inSingletonScope();
  bind(NO_SPACE_ALARM).to(NoSpaceAlarmRaiser).inSingletonScope();
  // --auth-token chooses simple or JWT tokens (the assembly checked the value before starting).
  bind<TokenProvider>(TOKEN_PROVIDER)
    .toResolvedValue((settings: MemberSettings, clock: Clock) => createTokenProvider(settings, clock), [MEMBER_SETTINGS, CLOCK])
    .inSingletonScope();
  bind<CairnServices>(CAIRN_SERVICES)
    .toResolvedValue((member: MemberServices) => member.services, [MemberServices])
    .inSingletonScope();

  // Contributions: the kernel's own health checks, metrics and lifecycle participants.
  // etcd's /readyz checks, in etcd's order (/livez: serializable_read, the one liveness check).
  bind(HEALTH_CHECK).to(DataCorruptionCheck).inSingletonScope();
  bind(HEALTH_CHECK).to(SerializableReadCheck).inSingletonScope();
  bind(HEALTH_CHECK).to(LinearizableReadCheck).inSingletonScope();
  bind(HEALTH_CHECK).to(NonLearnerCheck).inSingletonScope();
  bind(METRICS_COLLECTOR).to(MvccMetrics).inSingletonScope();
  bind(METRICS_COLLECTOR).to(ServerMetrics).inSingletonScope();
  bind(METRICS_COLLECTOR).to(AuthMetrics).inSingletonScope();
  bind(LIFECYCLE_PARTICIPANT).to(AppliedStateParticipant).inSingletonScope();
  bind(LIFECYCLE_PARTICIPANT).to(MetricsParticipant).inSingletonScope();
  bindParticipant(bind, Lessor, { name: 'lessor', after: ['state'], start: (lessor) => lessor.start(), stop: (lessor) => lessor.stop() });
  bindParticipant(bind, MemberAttributesPublisher, {
    name: 'member-attributes',
    after: ['state'],
    start: (publisher) => publisher.start(),
    stop: (publisher) => publisher.stop(),
  });
  // Nothing to start; at stop, the open watch streams end.
  bindParticipant(bind, MemberWatchService, { name: 'watch-service', after: ['state'], start: () => undefined, stop: (watch) => watch.close() });
});
