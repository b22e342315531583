// etcd's wire format, shared by every API frontend: the .proto files, messages as plain objects,
// their codecs to and from the api types, and the table of unary RPCs over the services.
export * from './proto-dir.js';
export * from './wire-types.js';
export * from './lease-wire-types.js';
export * from './recipe-wire-types.js';
export * from './member-id.js';
export * from './kv-codec.js';
export * from './watch-codec.js';
export * from './watch-fragments.js';
export * from './lease-codec.js';
export * from './cluster-codec.js';
export * from './maintenance-codec.js';
export * from './recipe-codec.js';
export * from './snapshot-messages.js';
export * from './request-limits.js';
export * from './unary-methods.js';
export * from './wire-watch-stream.js';
export * from './maintenance-auth-error.js';
export * from './auth-codec.js';
export * from './auth-wire-types.js';
export * from './refused-watch-session.js';
export * from './services-as.js';
export * from './server-streams.js';
