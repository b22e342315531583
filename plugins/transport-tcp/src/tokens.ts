/**
 * The transport's options (a TcpTransportOptions): the plugin's validated options, with the listen
 * address and cluster ID taken from the member's context when they leave them out, and the TLS
 * files read.
 */
export const TCP_TRANSPORT_OPTIONS = Symbol.for('cairn.plugin.transport-tcp.options');
/** The core's logger for this plugin (PluginContext.logger). */
export const TCP_TRANSPORT_LOGGER = Symbol.for('cairn.plugin.transport-tcp.logger');
