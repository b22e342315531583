export * from './ports/index.js';
export * from './raft/types.js';
export * from './raft/core-api.js';
export * from './assembly/plugin.js';
export * from './services/registry.js';
