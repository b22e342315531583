/**
 * The frontend's options (a GrpcFrontendOptions): the plugin's validated options, with the
 * member's --listen-client-urls and --max-request-bytes where they leave them out.
 */
export const GRPC_FRONTEND_OPTIONS = Symbol.for('cairn.plugin.api-grpc.options');
/** The core's logger for this plugin (PluginContext.logger). */
export const GRPC_LOGGER = Symbol.for('cairn.plugin.api-grpc.logger');
