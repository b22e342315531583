export { default } from './plugin.js';
export type { GrpcPluginOptions } from './plugin.js';
export { GrpcFrontend, GRPC_OVERHEAD_BYTES, type GrpcFrontendOptions, type ListenAddress } from './grpc-frontend.js';
export { parseListenAddress } from './listen-address.js';
export { etcdPackageDefinition, etcdServiceDefinition, recipeServiceDefinition } from './etcd-proto.js';
// The .proto files moved to the core (@cairn/core ships them); still named here for existing callers.
export { etcdProtoDir } from '@cairn/core';
export { GRPC_FRONTEND_OPTIONS, GRPC_LOGGER } from './tokens.js';
