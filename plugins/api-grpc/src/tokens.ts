/**
 * The frontend's options (a GrpcFrontendOptions): the plugin's validated options, with the
 * member's --listen-client-urls and --max-request-bytes where they leave them out.
 */
export const GRPC_FRONTEND_OPTIONS = Symbol.for('cairn.plugin.api-grpc.options');
/** The core's logger for this plugin (PluginContext.logger). */
export const GRPC_LOGGER = Symbol.for('cairn.plugin.api-grpc.logger');
/** Who answers HTTP/1.x on the frontend's client ports (an Http1Route). */
export const GRPC_HTTP1_ROUTE = Symbol.for('cairn.plugin.api-grpc.http1-route');
