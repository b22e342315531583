export * from './memory-disk.js';
export * from './memory-log-store.js';
export * from './memory-stable-store.js';
export * from './memory-snapshot-store.js';
export * from './memory-backend.js';
export * from './single-member-transport.js';
export * from './memory-plugin.js';
