import type { Clock } from '../../ports/clock.js';
import type { Random } from '../../ports/random.js';
import type { Transport, TransportHandler } from '../../ports/transport.js';
import type { MemberId, Message } from '../../protocol/raft-types.js';

/** What the network does to each message; change it at any time. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Delivery latency, uniform in [minDelayMs, maxDelayMs] (virtual ms). */
  minDelayMs: number;
  maxDelayMs: number;
  /** When false, each link delivers in send order; when true, latency alone decides the order. */
  reorder: boolean;
  /** A snapshot transfer with no answer after this long fails (virtual ms). */
  snapshotTimeoutMs: number;
}

export interface MemoryNetworkOptions {
  readonly clock: Clock;
  /** Draws every fault; seed it to replay a run. */
  readonly random: Random;
  readonly faults?: Partial<NetworkFaults>;
  /**
   * Most messages in flight on one link (like a real transport's bounded per-peer queue); what
   * overflows is dropped. Unbounded when absent.
   */
  readonly linkCapacity?: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  snapshotsSent: number;
  snapshotsFailed: number;
}

const link = (from: MemberId, to: MemberId): string => `${from}>${to}`;

/**
 * An in-process network on a (virtual) clock between MemoryTransports. Links can be cut one way
 * (asymmetric partitions) or both ways; messages can be dropped, duplicated, delayed and reordered,
 * every choice drawn from the injected Random so a seeded run replays exactly.
 */
export class MemoryNetwork {
  readonly faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, snapshotsSent: 0, snapshotsFailed: 0 };
  private readonly blocked = new Set<string>();
  private readonly attached = new Map<MemberId, MemoryTransport>();
  /** Per link, when its last message is due (keeps FIFO order when reordering is off). */
  private readonly linkClock = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: MemoryNetworkOptions) {
    this.faults = {
      dropRate: 0,
      duplicateRate: 0,
      minDelayMs: 0,
      maxDelayMs: 0,
      reorder: false,
      snapshotTimeoutMs: 5_000,
      ...options.faults,
    };
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** A new, unstarted transport for one member (one per incarnation of that member). */
  transport(): MemoryTransport {
    return new MemoryTransport(this);
  }

  /** Cut the link from → to only (to still reaches from). */
  block(from: MemberId, to: MemberId): void {
    this.blocked.add(link(from, to));
  }

  unblock(from: MemberId, to: MemberId): void {
    this.blocked.delete(link(from, to));
  }

  /** Cut `id` off from every member in `others`, both ways. */
  isolate(id: MemberId, others: Iterable<MemberId>): void {
    for (const o of others) {
      if (o === id) continue;
      this.block(id, o);
      this.block(o, id);
    }
  }

  /** Split into groups that cannot reach each other (both ways); members within a group can. */
  partition(groups: readonly (readonly MemberId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.block(x, y);
      }
    }
  }

  /** Restore every link. */
  heal(): void {
    this.blocked.clear();
  }

  isBlocked(from: MemberId, to: MemberId): boolean {
    return this.blocked.has(link(from, to));
  }

  /** The cut links, as "from>to". */
  cutLinks(): string[] {
    return [...this.blocked].sort();
  }

  /** @internal */
  attach(id: MemberId, transport: MemoryTransport): void {
    this.attached.set(id, transport);
  }

  /** @internal */
  detach(id: MemberId, transport: MemoryTransport): void {
    if (this.attached.get(id) === transport) this.attached.delete(id);
  }

  /** @internal Route one message through the faults. */
  route(message: Message): void {
    this.stats.sent++;
    const { random } = this.options;
    if (this.isBlocked(message.from, message.to) || (this.faults.dropRate > 0 && random.next() < this.faults.dropRate)) {
      this.stats.dropped++;
      return;
    }
    const key = link(message.from, message.to);
    const queued = this.inFlight.get(key) ?? 0;
    if (queued >= (this.options.linkCapacity ?? Infinity)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.faults.duplicateRate > 0 && random.next() < this.faults.duplicateRate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    this.inFlight.set(key, queued + copies);
    for (let i = 0; i < copies; i++) {
      const delay = this.deliveryDelay(message.from, message.to);
      this.clock.setTimeout(() => {
        this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
        this.deliver(message);
      }, delay);
    }
  }

  /**
   * @internal Carry a snapshot chunk by chunk as the receiver reads it (nothing is held whole):
   * the receiver stores it, then the acknowledgement travels back.
   */
  async carrySnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    this.stats.snapshotsSent++;
    try {
      await this.withTimeout(this.transferSnapshot(message, data), this.faults.snapshotTimeoutMs);
    } catch (err) {
      this.stats.snapshotsFailed++;
      throw err;
    }
  }

  private async transferSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const { from, to } = message;
    await this.sleep(this.deliveryDelay(from, to));
    const target = this.attached.get(to);
    if (target === undefined || this.isBlocked(from, to) || (this.faults.dropRate > 0 && this.options.random.next() < this.faults.dropRate)) {
      throw new Error(`snapshot to ${to} failed: peer unreachable`);
    }
    // Copies, so the receiver never shares a buffer the sender may reuse.
    const stream = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of data) yield chunk.slice();
    };
    await target.receiveSnapshot(message, stream());
    await this.sleep(this.deliveryDelay(to, from));
    if (this.isBlocked(to, from)) throw new Error(`snapshot to ${to}: acknowledgement lost`);
  }

  private deliver(message: Message): void {
    const target = this.attached.get(message.to);
    // A partition that began while the message was in flight also stops it.
    if (target === undefined || this.isBlocked(message.from, message.to)) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    target.receive(message);
  }

  private deliveryDelay(from: MemberId, to: MemberId): number {
    const { minDelayMs, maxDelayMs, reorder } = this.faults;
    const latency = maxDelayMs > minDelayMs ? this.options.random.int(minDelayMs, maxDelayMs + 1) : minDelayMs;
    if (reorder) return latency;
    const now = this.clock.now();
    const key = link(from, to);
    const at = Math.max(now + latency, this.linkClock.get(key) ?? 0);
    this.linkClock.set(key, at);
    return at - now;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  private withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`snapshot transfer timed out after ${ms} ms`)), ms);
      work.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e);
        },
      );
    });
  }
}

/** One member's end of a MemoryNetwork. Messages to members outside the peer table are dropped. */
export class MemoryTransport implements Transport {
  private self: MemberId | undefined;
  private handler: TransportHandler | undefined;
  private peers = new Map<MemberId, readonly string[]>();
  /** Messages dropped because their destination was not a known peer. */
  unknownPeerDrops = 0;

  constructor(private readonly network: MemoryNetwork) {}

  async start(self: MemberId, handler: TransportHandler): Promise<void> {
    this.self = self;
    this.handler = handler;
    this.network.attach(self, this);
  }

  setPeers(peers: ReadonlyMap<MemberId, readonly string[]>): void {
    this.peers = new Map(peers);
  }

  knownPeers(): MemberId[] {
    return [...this.peers.keys()];
  }

  send(messages: readonly Message[]): void {
    if (this.handler === undefined) return;
    for (const m of messages) {
      if (!this.peers.has(m.to)) {
        this.unknownPeerDrops++;
        continue;
      }
      this.network.route(m);
    }
  }

  async sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.handler === undefined) throw new Error('transport is not started');
    if (!this.peers.has(message.to)) throw new Error(`snapshot to ${message.to} failed: unknown peer`);
    await this.network.carrySnapshot(message, data);
  }

  async stop(): Promise<void> {
    if (this.self !== undefined) this.network.detach(this.self, this);
    this.handler = undefined;
  }

  /** @internal */
  receive(message: Message): void {
    const handler = this.handler;
    if (handler === undefined) return;
    try {
      handler.onMessage(message);
    } catch {
      // The contract: a handler never throws back into the transport; a faulty one loses the message.
    }
  }

  /** @internal */
  async receiveSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const handler = this.handler;
    if (handler === undefined) throw new Error(`snapshot to ${message.to} failed: peer stopped`);
    await handler.onSnapshot(message, data);
  }
}
