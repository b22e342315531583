import type { Consensus } from '../raft/consensus.js';
import { EtcdErrors } from '../api/errors.js';
import type { CairnServices, ClusterService, KvService, MaintenanceService } from '../api/services.js';
import type { AuthService } from '../api/auth-types.js';

type Gate = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;

function gatedAuth(auth: AuthService, gate: Gate): AuthService {
  return {
    enable: gate(() => auth.enable()),
    disable: gate(() => auth.disable()),
    status: gate(() => auth.status()),
    authenticate: gate((name, password) => auth.authenticate(name, password)),
    userAdd: gate((name, password, options) => auth.userAdd(name, password, options)),
    userGet: gate((name) => auth.userGet(name)),
    userList: gate(() => auth.userList()),
    userDelete: gate((name) => auth.userDelete(name)),
    userChangePassword: gate((name, password) => auth.userChangePassword(name, password)),
    userGrantRole: gate((user, role) => auth.userGrantRole(user, role)),
    userRevokeRole: gate((name, role) => auth.userRevokeRole(name, role)),
    roleAdd: gate((name) => auth.roleAdd(name)),
    roleGet: gate((role) => auth.roleGet(role)),
    roleList: gate(() => auth.roleList()),
    roleDelete: gate((role) => auth.roleDelete(role)),
    roleGrantPermission: gate((name, perm) => auth.roleGrantPermission(name, perm)),
    roleRevokePermission: gate((role, key, rangeEnd) => auth.roleRevokePermission(role, key, rangeEnd)),
  };
}

/**
 * etcd 3.4's rule for a learner: it serves endpoint status and serializable reads, and refuses
 * every other request with "rpc not supported for learner", so clients move on to a voter.
 */
export function learnerGated(services: CairnServices, node: Pick<Consensus, 'membership' | 'id'>): CairnServices {
  const isLearner = (): boolean => node.membership().learners.includes(node.id);
  const gate =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (isLearner()) throw EtcdErrors.notSupportedForLearner();
      return call(...args);
    };
  const { kv, cluster, maintenance } = services;
  const gatedKv: KvService = {
    range: async (request) => {
      if (request.serializable !== true && isLearner()) throw EtcdErrors.notSupportedForLearner();
      return kv.range(request);
    },
    put: gate((r) => kv.put(r)),
    deleteRange: gate((r) => kv.deleteRange(r)),
    txn: gate((r) => kv.txn(r)),
    compact: gate((r) => kv.compact(r)),
  };
  const gatedCluster: ClusterService = {
    memberList: gate((linearizable) => cluster.memberList(linearizable)),
    memberAdd: gate((urls, learner) => cluster.memberAdd(urls, learner)),
    memberRemove: gate((id) => cluster.memberRemove(id)),
    memberUpdate: gate((id, urls) => cluster.memberUpdate(id, urls)),
    memberPromote: gate((id) => cluster.memberPromote(id)),
  };
  const gatedMaintenance: MaintenanceService = {
    status: () => maintenance.status(),
    hashKv: gate((revision) => maintenance.hashKv(revision)),
    defragment: gate(() => maintenance.defragment()),
    alarm: gate((action, member, alarm) => maintenance.alarm(action, member, alarm)),
    snapshot: () => {
      if (isLearner()) throw EtcdErrors.notSupportedForLearner();
      return maintenance.snapshot();
    },
    moveLeader: gate((target) => maintenance.moveLeader(target)),
  };
  const { lease, watch, lock, election, auth } = services;
  return {
    identity: services.identity,
    kv: gatedKv,
    cluster: gatedCluster,
    maintenance: gatedMaintenance,
    // etcd answers health and metrics on a learner too.
    ...(services.health === undefined ? {} : { health: services.health }),
    ...(services.metrics === undefined ? {} : { metrics: services.metrics }),
    ...(lease === undefined
      ? {}
      : {
          lease: {
            grant: gate((ttl, id) => lease.grant(ttl, id)),
            revoke: gate((id) => lease.revoke(id)),
            keepAlive: gate((id) => lease.keepAlive(id)),
            timeToLive: gate((id, keys) => lease.timeToLive(id, keys)),
            leases: gate(() => lease.leases()),
          },
        }),
    ...(lock === undefined
      ? {}
      : {
          lock: { lock: gate((name, l, signal) => lock.lock(name, l, signal)), unlock: gate((key) => lock.unlock(key)) },
        }),
    ...(election === undefined
      ? {}
      : {
          election: {
            campaign: gate((name, l, value, signal) => election.campaign(name, l, value, signal)),
            proclaim: gate((leader, value) => election.proclaim(leader, value)),
            leader: gate((name) => election.leader(name)),
            observe: (name, signal) => {
              if (isLearner()) throw EtcdErrors.notSupportedForLearner();
              return election.observe(name, signal);
            },
            resign: gate((leader) => election.resign(leader)),
          },
        }),
    // etcd 3.4 refuses every auth RPC on a learner.
    ...(auth === undefined ? {} : { auth: gatedAuth(auth, gate) }),
    ...(watch === undefined
      ? {}
      : {
          watch: {
            openStream: (options) => {
              if (isLearner()) throw EtcdErrors.notSupportedForLearner();
              return watch.openStream(options);
            },
          },
        }),
  };
}
