export * from './ports/index.js';
export * from './raft/types.js';
export * from './raft/core-api.js';
export * from './raft/state-machine.js';
export * from './assembly/plugin.js';
export * from './services/registry.js';
export * from './services/kv-types.js';
export * from './services/errors.js';
