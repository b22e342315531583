import { RaftNode } from '../../src/raft/node.js';
import type { RaftNodeConfig } from '../../src/raft/node-config.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import type { MemberId } from '../../src/protocol/raft-types.js';
import { MemoryDisk } from '../../src/memory/memory-disk.js';
import { MemoryLogStore } from '../../src/memory/memory-log-store.js';
import { MemoryLogger } from '../../src/testkit/memory/memory-logger.js';
import { MemoryNetwork } from '../../src/testkit/memory/memory-network.js';
import { MemorySnapshotStore } from '../../src/memory/memory-snapshot-store.js';
import { MemoryStableStore } from '../../src/memory/memory-stable-store.js';
import { SeededRandom } from '../../src/testkit/memory/seeded-random.js';
import { VirtualClock, VirtualClockDeferral } from '../../src/testkit/memory/virtual-clock.js';
import { encodeRegisterCommand, RegisterStateMachine } from '../../src/testkit/simulator/register-state-machine.js';

/** What a test may change of a node: its config, and the state machine it applies to. */
export type NodeOverrides = Partial<RaftNodeConfig> & { readonly stateMachine?: StateMachine };

export interface TestMember {
  readonly id: MemberId;
  disk: MemoryDisk;
  log: MemoryLogStore;
  stable: MemoryStableStore;
  snapshots: MemorySnapshotStore;
  sm: RegisterStateMachine;
  node: RaftNode;
}

/** A few RaftNodes on the memory ports and one virtual clock, for driver tests. */
export class TestCluster {
  readonly clock = new VirtualClock();
  readonly random = new SeededRandom(1);
  readonly network = new MemoryNetwork({ clock: this.clock, random: this.random.fork(), faults: { minDelayMs: 1, maxDelayMs: 2 } });
  readonly logger = new MemoryLogger({ level: 'info', now: () => this.clock.now() });
  readonly members = new Map<MemberId, TestMember>();
  readonly peers: Map<MemberId, readonly string[]>;

  constructor(
    ids: readonly MemberId[],
    private readonly extra: NodeOverrides = {},
  ) {
    this.peers = new Map(ids.map((id) => [id, [`mem://${id}`]]));
    for (const id of ids) {
      const disk = new MemoryDisk({ clock: this.clock, syncDelay: () => 1 });
      const m = {
        id,
        disk,
        log: new MemoryLogStore(disk),
        stable: new MemoryStableStore(disk),
        snapshots: new MemorySnapshotStore(disk),
        sm: new RegisterStateMachine(),
      } as TestMember;
      m.node = this.newNode(m);
      this.members.set(id, m);
    }
  }

  newNode(m: TestMember, overrides: NodeOverrides = {}): RaftNode {
    const { stateMachine, ...config } = { ...this.extra, ...overrides };
    return new RaftNode(
      { id: m.id, peers: this.peers, raft: { electionTick: 10, heartbeatTick: 1 }, tickMs: 10, requestTimeoutMs: 500, ...config },
      stateMachine ?? m.sm,
      this.network.transport(),
      m.log,
      m.stable,
      m.snapshots,
      this.clock,
      this.logger,
      this.random.fork(),
      new VirtualClockDeferral(this.clock),
    );
  }

  member(id: MemberId): TestMember {
    return this.members.get(id)!;
  }

  async start(): Promise<void> {
    await this.clock.settle(Promise.all([...this.members.values()].map((m) => m.node.start())));
  }

  async stop(): Promise<void> {
    await this.clock.settle(Promise.all([...this.members.values()].map((m) => m.node.stop())));
  }

  /** Run virtual time until `done` holds (checked after every timer) or `ms` pass. */
  async runUntil(done: () => boolean, ms = 5_000): Promise<boolean> {
    await this.clock.runFor(ms, done);
    return done();
  }

  leader(): TestMember | undefined {
    return [...this.members.values()].find((m) => !m.node.isHalted && m.node.status().role === 'leader');
  }

  async waitForLeader(): Promise<TestMember> {
    // Elected, and known to every running member (a follower without a leader refuses proposals).
    await this.runUntil(() => {
      const leader = this.leader();
      return leader !== undefined && [...this.members.values()].every((m) => m.node.isHalted || m.node.currentLeader() === leader.id);
    });
    const leader = this.leader();
    if (leader === undefined) throw new Error('no leader elected');
    return leader;
  }

  /** Propose a write through `via` and run the clock until it is answered. */
  async write(via: TestMember, key: string, value: string): Promise<unknown> {
    let settled = false;
    const p = via.node.propose(encodeRegisterCommand({ op: 'write', key, value })).finally(() => {
      settled = true;
    });
    await this.runUntil(() => settled);
    return p;
  }
}
