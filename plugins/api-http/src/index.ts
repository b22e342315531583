export { default } from './plugin.js';
export type { HttpPluginOptions } from './plugin.js';
