/** A fault or reliability suite: what it proves, where it lives, how to run it. */
export interface SuiteEntry {
  readonly title: string;
  /** The `suite` its run records carry, when it writes any. */
  readonly recordSuite?: string;
  readonly what: string;
  /** Repository paths of its tests or scripts (the report marks those missing from the checkout). */
  readonly files: readonly string[];
  readonly commands: readonly string[];
}

const CORE_MOCHA = 'cd core && npx mocha --no-config --reporter dot --timeout 20000';
const E2E_MOCHA = 'cd test && npx mocha --no-config --reporter dot --timeout 120000';
const SIM_FAULTS =
  'partition, isolate-leader, asymmetric (one-way links), heal, drop, duplicate, reorder, delay, crash, restart, remove-member (half the time a second removal right behind, which Raft must refuse), add-learner, promote-learner, transfer-leader, disk-failure (every fsync fails with EIO)';
const PLANTED_BUGS =
  'voteWithoutLogCheck, commitPreviousTermByCount, readWithoutReadIndex, ackAfterFailedSync, and the two only partitions expose: leaseReadWithoutCheckQuorum, heartbeatCommitBeyondMatch';

/** Every fault and reliability suite in the repository, in the order the report lists them. */
export const SUITES: readonly SuiteEntry[] = [
  {
    title: 'Deterministic cluster simulator',
    recordSuite: 'simulator',
    what:
      `Seeded runs of a 3- or 5-member cluster on memory ports and a virtual clock, every choice drawn from the seed so a failing seed replays exactly. Faults: ${SIM_FAULTS}. ` +
      "Checked as it runs: election safety, log matching, leader completeness, state machine safety, durability (a member never loses what it acknowledged), a bounded run (virtual time must move), and the clients' history for linearizability. " +
      `Planted bugs it must catch (core/src/raft/core-api.ts PlantedBugs): ${PLANTED_BUGS}; each test also passes the bug-free build over the same seeds.`,
    files: ['core/src/testkit/simulator/simulation.ts', 'core/test/simulator/simulator.test.ts', 'core/test/simulator/planted-bugs.test.ts'],
    commands: [
      'npx tsc -b core && npm run sim -- --seeds 1000 --keep-going [--members 5] [--record FILE]',
      'npm run sim -- --seed N [--members 5] [--bug NAME]   # replay one seed',
      `${CORE_MOCHA} dist/test/simulator/simulator.test.js dist/test/simulator/planted-bugs.test.js dist/test/simulator/safety-checker.test.js`,
    ],
  },
  {
    title: 'Partition faults with membership changes, leases and locks (real processes, TCP)',
    recordSuite: 'partition-faults',
    what:
      'Three cairn processes whose peer links all run through proxies the test controls: isolate the leader or a follower, majority/minority split, bridge, one-way drop, SIGKILL, SIGSTOP; heal after each. Meanwhile a learner joins, is promoted, a voter is removed and the leadership moved. ' +
      'Puts, linearizable reads and CAS txns are checked for linearizability; lock holders do fenced writes under a lease-bound mutex (a holder cut off must lose the lock before another gets it); the cluster must converge to the intended membership.',
    files: ['test/e2e/partition-faults.test.ts', 'test/e2e/fault-runs.sh'],
    commands: [
      `npx tsc -b test && ${E2E_MOCHA.replace('120000', '600000')} dist/e2e/partition-faults.test.js   # short form (CI)`,
      'RUNS=100 FAULT_DURATION_MS=60000 test/e2e/fault-runs.sh   # long form, one record per run',
    ],
  },
  {
    title: 'Process faults: kill and pause under load, over TCP and NATS (real processes)',
    recordSuite: 'process-faults',
    what: 'SIGKILL and SIGSTOP/SIGCONT of members (and of the nats-server over NATS) under puts, linearizable reads and CAS txns from several clients; the history must be linearizable and no acknowledged write lost.',
    files: ['test/e2e/cluster-faults.test.ts', 'test/e2e/fault-runs.sh', 'test/e2e/nats-fault-runs.sh'],
    commands: [
      `npx tsc -b test && ${E2E_MOCHA.replace('120000', '300000')} dist/e2e/cluster-faults.test.js   # FAULT_TRANSPORT=tcp|nats, FAULT_SEED replays`,
      'SUITE=process RUNS=100 FAULT_DURATION_MS=60000 test/e2e/fault-runs.sh   # long form over TCP, one record per run',
      'RUNS=20 FAULT_DURATION_MS=30000 test/e2e/nats-fault-runs.sh   # long form over NATS (table in docs/nats-fault-runs.md)',
    ],
  },
  {
    title: 'Disk faults: WAL, LMDB and LevelDB',
    what: 'A failing fsync (EIO), a full disk (ENOSPC, from a small tmpfs when run as root) and slow fsync, injected under each storage plugin: a failed log or stable-state write halts the member without acknowledging; the restart has every acknowledged write; a full backend raises NOSPACE instead of crashing.',
    files: [
      'core/src/testkit/disk-fault-conformance.ts',
      'plugins/storage-wal/test/wal-disk-faults.test.ts',
      'plugins/storage-wal/test/wal-full-disk.test.ts',
      'plugins/storage-lmdb/test/lmdb-disk-faults.test.ts',
      'plugins/storage-leveldb/test/leveldb-disk-faults.test.ts',
      'test/e2e/disk-faults.test.ts',
    ],
    commands: [
      'npx tsc -b plugins/storage-wal && cd plugins/storage-wal && npx mocha --no-config --reporter dot --timeout 60000 dist/test/wal-disk-faults.test.js dist/test/wal-full-disk.test.js   # likewise storage-lmdb, storage-leveldb (their *-disk-faults tests)',
      `npx tsc -b test && ${E2E_MOCHA} dist/e2e/disk-faults.test.js`,
    ],
  },
  {
    title: 'Crash recovery under write load',
    what: 'Repeated kill -9 of a member under writes, for each storage plugin: every acknowledged write is there after the restart, with its revision.',
    files: ['test/e2e/crash-recovery.test.ts'],
    commands: [`npx tsc -b test && ${E2E_MOCHA} dist/e2e/crash-recovery.test.js`],
  },
  {
    title: 'Hostile and unlucky peers and clients',
    what: "Garbage, oversized and truncated frames and a peer of another cluster on the peer port, half a handshake on the client port, 10,000 idle client connections and 100,000 watchers: the member stays up, refuses with a log line, and its memory stays bounded (RSS beside etcd 3.4 in docs/hostile-inputs.md); a watcher that reads nothing does not grow the member's memory.",
    files: ['test/e2e/hostile-inputs.test.ts', 'test/e2e/slow-watcher.test.ts'],
    commands: [`npx tsc -b test && ${E2E_MOCHA.replace('120000', '600000')} dist/e2e/hostile-inputs.test.js dist/e2e/slow-watcher.test.js`],
  },
  {
    title: 'Lease checkpoints across leader changes',
    what: 'A lease keeps its remaining TTL across a leader change (the leader checkpoints remaining times through Raft): in virtual time (leader cut off, two leader changes in a row, renewals after checkpoints) and with real processes (kill -9 of the leader halfway through a lease: its keys go at the original deadline, within one election timeout).',
    files: ['core/test/lease/lease-checkpoint-cluster.test.ts', 'test/e2e/lease-checkpoint.test.ts', 'test/e2e/cluster-lease.test.ts'],
    commands: [
      `${CORE_MOCHA} dist/test/lease/lease-checkpoint-cluster.test.js`,
      `npx tsc -b test && ${E2E_MOCHA} dist/e2e/lease-checkpoint.test.js dist/e2e/cluster-lease.test.js`,
    ],
  },
  {
    title: 'Membership: remove then re-add at the same peer URL, learners, restart of a single member',
    what: 'etcdctl member remove then member add at the same peer URL: the member joins under a new ID and serves (beside etcd 3.4 doing the same steps); a learner joins, catches up and is promoted; a removed member is gone; a single member restarted serves its first linearizable read without waiting an election timeout.',
    files: ['test/e2e/member-readd.test.ts', 'test/e2e/cluster.test.ts', 'test/e2e/single-member-restart.test.ts'],
    commands: [`npx tsc -b test && ${E2E_MOCHA} dist/e2e/member-readd.test.js dist/e2e/cluster.test.js dist/e2e/single-member-restart.test.js`],
  },
];
