/** The plugin's validated options (HttpPluginOptions). */
export const HTTP_PLUGIN_OPTIONS = Symbol.for('cairn.plugin.api-http.options');
/** The core's logger for this plugin (PluginContext.logger). */
export const HTTP_LOGGER = Symbol.for('cairn.plugin.api-http.logger');
/** --listen-metrics-urls (string[]): where /metrics and the health endpoints get a listener of their own. */
export const HTTP_METRICS_URLS = Symbol.for('cairn.plugin.api-http.metrics-urls');
/** The request limits every frontend enforces (PluginContext.limits: --max-request-bytes). */
export const HTTP_REQUEST_LIMITS = Symbol.for('cairn.plugin.api-http.request-limits');
