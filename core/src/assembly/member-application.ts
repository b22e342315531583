import type { Backend } from '../ports/backend.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { RaftNode } from '../raft/node.js';
import type { StateMachine } from '../raft/state-machine.js';
import type { CairnServices } from '../api/services.js';
import type { CairnConfig } from './config-schema.js';
import type { ClusterMemberInfo } from '../cluster/cluster-member-info.js';

export type { ClusterMemberInfo };


export interface ApplicationContext {
  readonly config: CairnConfig;
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: { readonly clusterId: string; readonly memberId: string; readonly name: string };
  /** This member and the founding members from initial-cluster. */
  readonly members: readonly ClusterMemberInfo[];
}

/** What runs on top of Raft: its state machine, and the services that frontends serve from it. */
export interface ApplicationInstance {
  readonly stateMachine: StateMachine;
  /** Called once the Raft node exists (not yet started). */
  services(node: RaftNode): CairnServices;
  /** After the node stopped: release what the application holds. */
  close(): Promise<void>;
}

/** Builds the application of a member (the etcd KV application in `cairn`; something small in tests). */
export interface MemberApplication {
  create(context: ApplicationContext): Promise<ApplicationInstance>;
}
