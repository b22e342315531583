import type { NatsClientOptions } from '../src/nats-client.js';

/** A plain client of the test's server (for publishing by hand). */
export function testClientOptions(url: string): NatsClientOptions {
  return {
    servers: [url],
    name: 'cairn-test',
    credentials: { kind: 'none' },
    maxReconnectAttempts: -1,
    reconnectTimeWaitMs: 100,
    reconnectJitterMs: 50,
    pingIntervalMs: 5_000,
    maxPingOut: 3,
    connectTimeoutMs: 2_000,
  };
}
