/**
 * The transport's options (NatsTransportOptions): the plugin's validated options with this
 * member's own peer URLs and the cluster token taken from the member's configuration.
 */
export const NATS_TRANSPORT_OPTIONS = Symbol.for('cairn.plugin.transport-nats.options');
/** The core's logger for this plugin (PluginContext.logger). */
export const NATS_TRANSPORT_LOGGER = Symbol.for('cairn.plugin.transport-nats.logger');
