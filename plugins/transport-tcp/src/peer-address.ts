/** Where a peer listens. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Peer URL schemes that mean this transport: Cairn's own, and etcd's, so etcd flags work unchanged (https: with peer TLS). */
const SCHEMES = new Set(['tcp:', 'http:', 'https:']);

/**
 * Parses a peer URL (`tcp://127.0.0.1:2380`, `http://127.0.0.1:2380`) or a bare `host:port`
 * (`127.0.0.1:2380`, `[::1]:2380`). Throws with the offending text otherwise.
 */
export function parsePeerAddress(text: string): PeerAddress {
  const withScheme = text.includes('://') ? text : `tcp://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${text}" is not a peer address (want host:port or tcp://host:port)`);
  }
  if (!SCHEMES.has(url.protocol))
    throw new Error(`"${text}": scheme ${url.protocol.slice(0, -1)} is not served by the TCP transport (use tcp://, http:// or https://)`);
  if (url.port === '') throw new Error(`"${text}" has no port`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw new Error(`"${text}": a peer address has no path or query`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: Number(url.port) };
}

/** True if the transport can reach `url` (used to skip addresses meant for other transports). */
export function isTcpPeerUrl(url: string): boolean {
  try {
    parsePeerAddress(url);
    return true;
  } catch {
    return false;
  }
}
