export * from './ports/index.js';
export * from './protocol/raft-types.js';
// The peer wire a transport may share (@cairn/transport-tcp's message format): Raft messages as bytes, the field reader and writer, their error.
export * from './protocol/raft-message-codec.js';
export * from './protocol/wire-reader.js';
export * from './protocol/wire-writer.js';
export * from './protocol/wire-error.js';
export * from './raft/core-api.js';
export * from './raft/state-machine.js';
export * from './ports/plugin.js';
export * from './api/services.js';
export * from './api/kv-types.js';
export * from './api/errors.js';
export * from './protocol/stored-records.js';
export * from './api/watch-types.js';
export * from './api/lease-types.js';
export * from './api/auth-types.js';
export * from './etcd-wire/index.js';
export * from './memory/index.js';
export * from './tls/index.js';
export * from './api/response-headers.js';
export { LEASE_LOOKUP, type LeaseLookup } from './mvcc/lease-lookup.js';
// The etcd version Cairn reports (Status, /version, etcd_server_version).
export { ETCD_API_VERSION } from './services/maintenance-service.js';
export { WATCH_LIMITS } from './mvcc/watch-hub.js';
export { CONSENSUS, type Consensus, type LeaderChangeListener } from './raft/consensus.js';
export { RAFT_NODE_CONFIG, type RaftNodeConfig, type RaftNodeRaftOptions } from './raft/node-config.js';
// The assembly: extension authors resolve members from the same modules, and rebind what they replace.
export { etcdApplication } from './assembly/etcd-application.js';
export { raftModule } from './assembly/raft-module.js';
export { systemModule } from './assembly/system-module.js';
export { createMemberContainer, Member as RunningMember, type MemberContainerOptions, type MemberOptions } from './assembly/member.js';
export { startOrder } from './assembly/lifecycle-runner.js';
// Kernel components, bound by class: a plugin module may `rebind(Lessor).to(MyLessor)` and so on.
export { RaftNode } from './raft/node.js';
export { DurabilityError } from './raft/durability-error.js';
export { MvccStore } from './mvcc/mvcc-store.js';
export { WatchHub } from './mvcc/watch-hub.js';
export { Lessor, LESSOR_OPTIONS, type LessorOptions } from './lease/lessor.js';
export { LeaseStore } from './lease/lease-store.js';
export { AlarmRegistry } from './alarm/alarm-registry.js';
export { BackendQuota, DISK_RESERVE_BYTES } from './alarm/backend-quota.js';
export { MemberRegistry } from './cluster/member-registry.js';
export { FOUNDING_MEMBERS, type ClusterMemberInfo } from './cluster/cluster-member-info.js';
export { KvStateMachine } from './apply/kv-state-machine.js';
// Embedding a member (@cairn/embed): the config check, its error, the builtin plugins and the logger the `cairn` command uses.
export { configFrom } from './assembly/config-loader.js';
export { ConfigError } from './assembly/config-error.js';
export { BUILTIN_PLUGINS } from './assembly/cli.js';
export { SystemLogger } from './ports/system-logger.js';
