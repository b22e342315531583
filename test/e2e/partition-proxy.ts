import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { MemberSpec, PeerTransport } from './cluster-processes.js';

/*
 * Network partitions between real cairn processes without root: every member listens on its own
 * peer port but advertises the port of a proxy the test controls, so each peer connection to a
 * member goes through that member's proxy.
 *
 * Cairn's TCP transport sends Raft messages i→j only on connections i dialed (PeerLink); the
 * listener j answers on them with nothing but handshake, Pong and snapshot acks. Every connection
 * opens with a Hello frame naming the sender (`from`) and the member it meant to reach (`to`), so
 * the proxy in front of j knows which direction a connection carries and can cut exactly i→j.
 */

/** Frame layout of the peer protocol (plugins/transport-tcp frame.ts, handshake.ts): u32 body length, u32 CRC, body. */
const FRAME_HEADER_BYTES = 8;
const HELLO_FRAME_TYPE = 1;
const MAGIC = Buffer.from('CAIRNRFT', 'ascii');
/** The listener itself refuses more than this before a Hello; the proxy gives up identifying the sender there too. */
const MAX_HELLO_BYTES = 16 * 1024;

/** Who a connection is from and to (hex member IDs, as the Hello carries them). */
export interface HelloIds {
  readonly from: string;
  readonly to: string;
}

/**
 * The Hello at the start of `head`: the IDs, 'incomplete' while more bytes are needed, or
 * undefined when the bytes are not a Cairn Hello (the connection is then passed on unidentified).
 */
export function parseHello(head: Buffer): HelloIds | 'incomplete' | undefined {
  if (head.byteLength < FRAME_HEADER_BYTES) return 'incomplete';
  const bodyBytes = head.readUInt32BE(0);
  if (bodyBytes < 1 || bodyBytes > MAX_HELLO_BYTES) return undefined;
  if (head.byteLength < FRAME_HEADER_BYTES + bodyBytes) return 'incomplete';
  const body = head.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bodyBytes);
  if (body.readUInt8(0) !== HELLO_FRAME_TYPE || !body.subarray(1, 1 + MAGIC.byteLength).equals(MAGIC)) return undefined;
  // After the magic: u16 version, u8 kind, then three u16-length-prefixed strings: cluster ID, from, to.
  let at = 1 + MAGIC.byteLength + 2 + 1;
  const strings: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (at + 2 > body.byteLength) return undefined;
    const length = body.readUInt16BE(at);
    if (at + 2 + length > body.byteLength) return undefined;
    strings.push(body.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  return { from: strings[1]!, to: strings[2]! };
}

/** Member IDs compared as numbers: etcdctl prints them without leading zeros, the Hello with. */
const normalId = (hex: string): string => (hex === '' ? '' : BigInt(`0x${hex}`).toString(16));

/**
 * One connection through a proxy. While its direction is cut it is stalled: neither side's bytes
 * move (they wait in socket buffers, as in TCP under a partition) and a close by either side is
 * held back too; at the heal the bytes flow again and a held close is passed on.
 */
class ProxiedConnection {
  private upstream: Socket | undefined;
  private stalled = false;
  private closeHeld = false;
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly head: Buffer,
    readonly fromId: string | undefined,
    private readonly upstreamPort: number,
    private readonly onClosed: () => void,
  ) {}

  /** Apply the current verdict: `blocked` stalls the connection, otherwise it flows. */
  update(blocked: boolean): void {
    if (this.closed) return;
    this.stalled = blocked;
    if (blocked) {
      this.client.pause();
      this.upstream?.pause();
      return;
    }
    if (this.closeHeld) {
      this.close();
      return;
    }
    // Not dialed yet: a connection that arrived during the cut is connected now.
    if (this.upstream === undefined) this.dial();
    else {
      this.client.resume();
      this.upstream.resume();
    }
  }

  private dial(): void {
    const upstream = connect({ host: '127.0.0.1', port: this.upstreamPort });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => this.closeOrHold());
    upstream.on('close', () => this.closeOrHold());
    upstream.write(this.head);
    this.forward(this.client, upstream);
    this.forward(upstream, this.client);
    if (this.stalled) upstream.pause();
    else this.client.resume();
  }

  /** Copy `from` to `to`, pausing `from` while `to` is full (and not resuming it while stalled). */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.stalled) from.resume();
        });
      }
    });
  }

  closeOrHold(): void {
    if (this.stalled) this.closeHeld = true;
    else this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.upstream?.destroy();
    this.onClosed();
  }
}

/** The proxy in front of one member's peer port. Its upstream port is set when the member's spec is known. */
export class PeerProxy {
  upstreamPort: number | undefined;
  private readonly connections = new Set<ProxiedConnection>();
  private readonly pending = new Set<Socket>();

  private constructor(
    readonly name: string,
    private readonly server: Server,
    private readonly blocked: (fromId: string | undefined, to: string) => boolean,
    private readonly learn: (id: string, name: string) => void,
    private readonly counted: (fromId: string | undefined) => void,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(
    name: string,
    blocked: (fromId: string | undefined, to: string) => boolean,
    learn: (id: string, name: string) => void,
    counted: (fromId: string | undefined) => void,
  ): Promise<PeerProxy> {
    const server = createServer({ pauseOnConnect: false });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => done());
    });
    return new PeerProxy(name, server, blocked, learn, counted);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Re-evaluate every connection against the current cuts. */
  refresh(): void {
    for (const c of this.connections) c.update(this.blocked(c.fromId, this.name));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.pending.add(socket);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const hello = parseHello(head);
      if (hello === 'incomplete' && head.byteLength <= MAX_HELLO_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      this.pending.delete(socket);
      const ids = typeof hello === 'object' ? hello : undefined;
      // The dialer names the member behind this proxy: that is how the proxies learn every member's ID.
      if (ids !== undefined && ids.to !== '') this.learn(normalId(ids.to), this.name);
      if (this.upstreamPort === undefined) {
        socket.destroy();
        return;
      }
      const connection: ProxiedConnection = new ProxiedConnection(socket, head, ids === undefined ? undefined : normalId(ids.from), this.upstreamPort, () =>
        this.connections.delete(connection),
      );
      this.connections.add(connection);
      this.counted(connection.fromId);
      socket.on('error', () => connection.closeOrHold());
      socket.on('close', () => connection.closeOrHold());
      connection.update(this.blocked(connection.fromId, this.name));
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.pending.delete(socket));
  }

  async close(): Promise<void> {
    for (const c of [...this.connections]) c.close();
    for (const s of this.pending) s.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}

/**
 * The proxies of a cluster and the directed cuts between members (by name). `transport()` plugs
 * them into ProcessCluster: members advertise their proxy's URL.
 */
export class PartitionNetwork {
  private readonly proxies = new Map<string, PeerProxy>();
  private readonly cuts = new Set<string>();
  private readonly names = new Map<string, string>();
  /** Connections seen by sender ID ('' when the first bytes were no Hello). */
  private readonly senders = new Map<string, number>();

  /** Proxies for `names` (members that may join later included: a proxy must exist before its member's URL is used). */
  static async create(names: readonly string[]): Promise<PartitionNetwork> {
    const network = new PartitionNetwork();
    for (const name of names) {
      const proxy = await PeerProxy.listen(
        name,
        (fromId, to) => network.isCut(fromId, to),
        (id, n) => network.learn(id, n),
        (fromId) => network.senders.set(fromId ?? '', (network.senders.get(fromId ?? '') ?? 0) + 1),
      );
      network.proxies.set(name, proxy);
    }
    return network;
  }

  transport(): PeerTransport {
    return {
      peerUrl: (spec: MemberSpec): string => {
        const proxy = this.proxies.get(spec.name);
        if (proxy === undefined) throw new Error(`no partition proxy for ${spec.name}`);
        proxy.upstreamPort = spec.peerPort;
        return `http://127.0.0.1:${proxy.port}`;
      },
      args: (): string[] => [],
    };
  }

  /** `id` (hex, as member list or a Hello prints it) is member `name`. */
  learn(id: string, name: string): void {
    this.names.set(normalId(id), name);
  }

  /** The name of the member with this ID, if learnt. */
  nameOf(id: string): string | undefined {
    return this.names.get(normalId(id));
  }

  /** Messages from `from` to `to` vanish until the heal (`to`'s answers on those connections too). */
  cut(from: string, to: string): void {
    this.cuts.add(`${from}>${to}`);
    this.refresh();
  }

  /** Cut every link between a member of `a` and a member of `b`, both ways. */
  separate(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cuts.add(`${x}>${y}`);
        this.cuts.add(`${y}>${x}`);
      }
    }
    this.refresh();
  }

  heal(): void {
    this.cuts.clear();
    this.refresh();
  }

  /** Connections the proxies passed, and how many of them came from a sender they could not name (no cut applied to those). */
  connectionCounts(): { total: number; unidentified: number } {
    let total = 0;
    let unidentified = 0;
    for (const [id, n] of this.senders) {
      total += n;
      if (id === '' || !this.names.has(id)) unidentified += n;
    }
    return { total, unidentified };
  }

  /** The current cuts as `from>to`, for the fault log. */
  describe(): string[] {
    return [...this.cuts].sort();
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }

  private isCut(fromId: string | undefined, to: string): boolean {
    if (fromId === undefined) return false;
    const from = this.names.get(fromId);
    return from !== undefined && this.cuts.has(`${from}>${to}`);
  }

  private refresh(): void {
    for (const proxy of this.proxies.values()) proxy.refresh();
  }
}
