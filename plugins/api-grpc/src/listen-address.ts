import type { ListenAddress } from './grpc-frontend.js';

/**
 * "host:port", "[v6]:port" or a URL such as "http://localhost:2379" as an address to listen on.
 * "localhost" becomes 127.0.0.1, as Go's listener (and so etcd) binds it, whatever the resolver
 * would put first; an empty host means every interface. An https:// URL is marked `tls`.
 */
export function parseListenAddress(text: string): ListenAddress {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? new URL(text) : undefined;
  const hostPort = url !== undefined ? url.host : text;
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(hostPort);
  if (match === null) throw new Error(`listen address "${text}" is not host:port`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`listen address "${text}" has no valid port`);
  const host = match[1] ?? match[2] ?? '';
  const address = { host: host === '' ? '0.0.0.0' : host === 'localhost' ? '127.0.0.1' : host, port };
  return url?.protocol === 'https:' ? { ...address, tls: true } : address;
}
