import { AuthApplier } from '../auth/auth-applier.js';
import { inject, injectable, multiInject, optional, type Bind, type ServiceIdentifier } from 'inversify';
import type { Registry } from 'prom-client';
import { AlarmRegistry } from '../alarm/alarm-registry.js';
import type { CairnServices } from '../api/services.js';
import { MemberRegistry } from '../cluster/member-registry.js';
import { LeaseApplier } from '../lease/lease-applier.js';
import { MvccStore } from '../mvcc/mvcc-store.js';
import { WatchHub } from '../mvcc/watch-hub.js';
import type { ApiFrontend } from '../ports/api-frontend.js';
import { BACKEND, type Backend } from '../ports/backend.js';
import { LIFECYCLE_PARTICIPANT, type LifecycleParticipant } from '../ports/lifecycle-participant.js';
import type { Lifecycle } from '../ports/lifecycle.js';
import { LOG_STORE, type LogStore } from '../ports/log-store.js';
import { METRICS_COLLECTOR, METRICS_REGISTRY, type MetricsCollector } from '../ports/metrics-collector.js';
import { SNAPSHOT_STORE, type SnapshotStore } from '../ports/snapshot-store.js';
import { STABLE_STORE, type StableStore } from '../ports/stable-store.js';

/** Opens the storage ports (each distinct object once: one plugin may serve several ports). */
@injectable()
export class StorageParticipant implements LifecycleParticipant {
  readonly name = 'storage';
  private readonly stores: Lifecycle[];
  private opened: Lifecycle[] = [];

  constructor(
    @inject(LOG_STORE) logStore: LogStore,
    @inject(STABLE_STORE) stableStore: StableStore,
    @inject(SNAPSHOT_STORE) snapshotStore: SnapshotStore,
    @inject(BACKEND) backend: Backend,
  ) {
    this.stores = [...new Set<Lifecycle>([logStore, stableStore, snapshotStore, backend])];
  }

  async start(): Promise<void> {
    for (const store of this.stores) {
      await store.open();
      this.opened.push(store);
    }
  }

  async stop(): Promise<void> {
    const opened = this.opened.reverse();
    this.opened = [];
    for (const store of opened) await store.close();
  }
}

/** Reads the applied state from the Backend before Raft applies anything; flushes it at stop. */
@injectable()
export class AppliedStateParticipant implements LifecycleParticipant {
  readonly name = 'state';
  readonly after = ['storage'];

  constructor(
    @inject(MvccStore) private readonly store: MvccStore,
    @inject(LeaseApplier) private readonly leases: LeaseApplier,
    @inject(AlarmRegistry) private readonly alarms: AlarmRegistry,
    @inject(MemberRegistry) private readonly members: MemberRegistry,
    @inject(AuthApplier) private readonly auth: AuthApplier,
    // Constructed here so it subscribes before the first apply: no committed write escapes the watchers.
    @inject(WatchHub) private readonly watches: WatchHub,
  ) {}

  async start(): Promise<void> {
    await this.store.load();
    await this.leases.load();
    await this.alarms.load();
    await this.members.load();
    await this.auth.load();
  }

  async stop(): Promise<void> {
    this.watches.close();
    await this.store.flush();
  }
}

/** Registers every contributed metrics collector on the member's registry, once. */
@injectable()
export class MetricsParticipant implements LifecycleParticipant {
  readonly name = 'metrics';
  private registered = false;

  constructor(
    @inject(METRICS_REGISTRY) private readonly registry: Registry,
    @multiInject(METRICS_COLLECTOR) @optional() private readonly collectors: readonly MetricsCollector[] = [],
  ) {}

  async start(): Promise<void> {
    if (this.registered) return;
    this.registered = true;
    for (const collector of this.collectors) collector.register(this.registry);
  }

  async stop(): Promise<void> {}
}

/**
 * Binds `component`'s own start and stop as a lifecycle participant, for components whose
 * lifecycle is one call each way (the lessor's timers, the publisher, the node).
 */
export function bindParticipant<T>(
  bind: Bind,
  component: ServiceIdentifier<T>,
  participant: { readonly name: string; readonly after?: readonly string[]; start(component: T): unknown; stop(component: T): unknown },
): void {
  bind<LifecycleParticipant>(LIFECYCLE_PARTICIPANT)
    .toResolvedValue(
      (resolved: T) => ({
        name: participant.name,
        ...(participant.after === undefined ? {} : { after: participant.after }),
        start: async () => {
          await participant.start(resolved);
        },
        stop: async () => {
          await participant.stop(resolved);
        },
      }),
      [component],
    )
    .inSingletonScope();
}

/** One API frontend (bound by a plugin to API_FRONTEND), serving once Raft runs. */
export class ApiFrontendParticipant implements LifecycleParticipant {
  readonly after = ['raft', 'metrics'];

  constructor(
    readonly name: string,
    private readonly frontend: ApiFrontend,
    private readonly services: CairnServices,
  ) {}

  start(): Promise<void> {
    return this.frontend.start(this.services);
  }

  stop(): Promise<void> {
    return this.frontend.stop();
  }
}
