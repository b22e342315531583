import { createRaft, Raft } from '../../src/raft/raft.js';
import type { PlantedBugs, RaftCore } from '../../src/raft/core-api.js';
import { applyConfChangeTo, decodeConfChange } from '../../src/raft/conf-change.js';
import { SeededRandom } from '../../src/testkit/memory/seeded-random.js';
import {
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type HardState,
  type MemberId,
  type Message,
  type ReadState,
  type SnapshotMeta,
} from '../../src/protocol/raft-types.js';

/** What a scripted member has "on disk" and has applied: enough to check the paper's rules. */
export interface ScriptedMember {
  readonly id: MemberId;
  raft: RaftCore;
  log: Entry[];
  hardState: HardState;
  applied: Entry[];
  readStates: ReadState[];
  snapshot: SnapshotMeta | undefined;
  conf: ConfState;
}

/**
 * Raft cores wired together synchronously, for small readable scenarios: `deliver()` runs every
 * member's Ready (persisting instantly), passes messages along unless a filter drops them, and
 * repeats until the network is quiet.
 */
export class ScriptedNetwork {
  readonly members = new Map<MemberId, ScriptedMember>();
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /**
   * What a leader's driver streams for a Snap message: by default what Raft named; a driver that
   * builds the snapshot on demand rewrites it to its current applied index.
   */
  snapshotFor: (m: Message) => SnapshotMeta = (m) => m.snapshot!;
  /** When set, the driver's SnapStatus reports are kept here instead of delivered (step them by hand). */
  heldSnapStatus: Message[] | undefined;
  private readonly isolated = new Set<MemberId>();
  readonly sent: Message[] = [];
  private queue: Message[] = [];

  constructor(
    ids: readonly MemberId[],
    private readonly options: { preVote?: boolean; checkQuorum?: boolean; bugs?: PlantedBugs; maxSizePerMsg?: number; learners?: readonly MemberId[] } = {},
  ) {
    const conf: ConfState = { voters: [...ids].sort(), learners: [...(options.learners ?? [])].sort() };
    for (const id of [...ids, ...(options.learners ?? [])]) this.add(id, conf);
  }

  add(id: MemberId, conf: ConfState, seed = this.members.size + 1): ScriptedMember {
    const member: ScriptedMember = {
      id,
      log: [],
      hardState: { term: 0, vote: '', commit: 0 },
      applied: [],
      readStates: [],
      snapshot: undefined,
      conf,
      raft: createRaft(
        {
          id,
          electionTick: 10,
          heartbeatTick: 1,
          preVote: this.options.preVote ?? false,
          checkQuorum: this.options.checkQuorum ?? false,
          maxSizePerMsg: this.options.maxSizePerMsg ?? 1024 * 1024,
          maxInflightMsgs: 256,
          maxInflightBytes: 0,
          random: new SeededRandom(seed),
          ...(this.options.bugs ? { bugs: this.options.bugs } : {}),
        },
        { hardState: { term: 0, vote: '', commit: 0 }, confState: conf, entries: [], applied: 0 },
      ),
    };
    this.members.set(id, member);
    return member;
  }

  get(id: MemberId): ScriptedMember {
    return this.members.get(id)!;
  }

  /** Restart a member from what it persisted (its in-memory Raft state is lost). */
  restart(id: MemberId): void {
    const m = this.get(id);
    m.raft = createRaft(
      {
        id,
        electionTick: 10,
        heartbeatTick: 1,
        preVote: this.options.preVote ?? false,
        checkQuorum: this.options.checkQuorum ?? false,
        maxSizePerMsg: this.options.maxSizePerMsg ?? 1024 * 1024,
        maxInflightMsgs: 256,
        maxInflightBytes: 0,
        random: new SeededRandom(99),
      },
      {
        hardState: m.hardState,
        confState: m.conf,
        entries: m.log.filter((e) => e.index > (m.snapshot?.index ?? 0)),
        applied: m.applied[m.applied.length - 1]?.index ?? m.snapshot?.index ?? 0,
        ...(m.snapshot ? { snapshot: m.snapshot } : {}),
      },
    );
  }

  isolate(id: MemberId): void {
    this.isolated.add(id);
  }

  heal(): void {
    this.isolated.clear();
    this.filter = () => true;
  }

  campaign(id: MemberId): void {
    this.get(id).raft.campaign();
    this.deliver();
  }

  /** Tick one member n times, delivering after each tick. */
  tick(id: MemberId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.get(id).raft.tick();
      this.deliver();
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) m.raft.tick();
      this.deliver();
    }
  }

  propose(id: MemberId, data: string): boolean {
    const ok = this.get(id).raft.propose(new TextEncoder().encode(data));
    this.deliver();
    return ok;
  }

  /** Run Ready loops and message delivery until nothing moves. */
  deliver(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const m of this.members.values()) {
        while (m.raft.hasReady()) {
          moved = true;
          this.handleReady(m);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const msg of batch) {
        const to = this.members.get(msg.to);
        if (to === undefined) continue;
        moved = true;
        to.raft.step(msg);
      }
      if (!moved) return;
    }
    throw new Error('the scripted network did not go quiet');
  }

  private handleReady(m: ScriptedMember): void {
    const rd = m.raft.ready();
    this.route(rd.messagesBeforePersist);
    if (rd.snapshot !== undefined) {
      m.snapshot = rd.snapshot;
      m.log = [];
      m.conf = rd.snapshot.confState;
      m.applied = m.applied.filter((e) => e.index <= rd.snapshot!.index);
    }
    if (rd.hardState !== undefined) m.hardState = rd.hardState;
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      m.log = [...m.log.filter((e) => e.index < first), ...rd.entries];
    }
    this.route(rd.messages);
    for (const e of rd.committedEntries) {
      m.applied.push(e);
      if (e.type === EntryType.ConfChange) {
        const change = decodeConfChange(e.data);
        m.conf = applyConfChangeTo(m.conf, change);
        m.raft.applyConfChange(change);
      }
    }
    m.readStates.push(...rd.readStates);
    m.raft.advance(rd);
  }

  private route(messages: readonly Message[]): void {
    for (const msg of messages) {
      this.sent.push(msg);
      if (this.isolated.has(msg.from) || this.isolated.has(msg.to)) continue;
      if (!this.filter(msg)) continue;
      if (msg.type === MessageType.Snap) {
        // The bytes travel beside the message; report success to the sender as the driver would.
        const snapshot = this.snapshotFor(msg);
        this.queue.push({ ...msg, snapshot });
        const status: Message = {
          type: MessageType.SnapStatus,
          from: msg.to,
          to: msg.from,
          term: 0,
          logTerm: 0,
          index: snapshot.index,
          entries: [],
          commit: 0,
          reject: false,
          rejectHint: 0,
          context: new Uint8Array(0),
        };
        if (this.heldSnapStatus !== undefined) this.heldSnapStatus.push(status);
        else this.queue.push(status);
        continue;
      }
      this.queue.push(msg);
    }
  }

  leader(): ScriptedMember | undefined {
    return [...this.members.values()].find((m) => m.raft.status().role === 'leader' && !this.isolated.has(m.id));
  }

  appliedData(id: MemberId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export { Raft };
