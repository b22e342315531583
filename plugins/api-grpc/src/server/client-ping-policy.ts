/** How often a client with no call open may ping (grpc-go's defaultPingTimeout): etcd does not permit pings without streams. */
const IDLE_PING_MIN_MS = 2 * 60 * 60 * 1000;
/** Pings held against a client before it is sent away (grpc-go's maxPingStrikes). */
const MAX_STRIKES = 2;

/**
 * The keepalive enforcement etcd asks of grpc-go (`--grpc-keepalive-min-time`, streams required),
 * for one connection: a ping that comes sooner than the least interval after the previous one is a
 * strike (the interval is 2 h while the client has no call open); once the server has sent headers
 * or data since, the next ping clears the strikes; past two strikes the client is to be sent
 * GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
 */
export class ClientPingPolicy {
  /** Calls open on the connection. */
  openCalls = 0;
  private lastPingAt = -Infinity;
  private strikes = 0;
  private sentSincePing = false;

  constructor(
    private readonly minTimeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The server sent headers or data on the connection. */
  noteSent(): void {
    this.sentSincePing = true;
  }

  /** A PING came from the client: true when it has pinged too often and must go. */
  pinged(): boolean {
    const now = this.now();
    const since = now - this.lastPingAt;
    this.lastPingAt = now;
    if (this.sentSincePing) {
      this.sentSincePing = false;
      this.strikes = 0;
      return false;
    }
    if (since < (this.openCalls > 0 ? this.minTimeMs : IDLE_PING_MIN_MS)) this.strikes++;
    return this.strikes > MAX_STRIKES;
  }
}
