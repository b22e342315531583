export { default } from './plugin.js';
export type { TcpPluginOptions } from './plugin.js';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
export type { TransportMetrics } from './transport-metrics.js';
export type { ReconnectBackoff } from './peer-link.js';
export { parsePeerAddress, isTcpPeerUrl, type PeerAddress } from './peer-address.js';
export type { PeerTlsOptions } from './peer-sockets.js';
export { TCP_TRANSPORT_LOGGER, TCP_TRANSPORT_OPTIONS } from './tokens.js';
