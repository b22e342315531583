export { default } from './plugin.js';
export type { GrpcPluginOptions } from './plugin.js';
export { GrpcFrontend, GRPC_OVERHEAD_BYTES, type GrpcFrontendOptions, type ListenAddress } from './grpc-frontend.js';
export { parseListenAddress } from './listen-address.js';
export { etcdProtoDir, etcdPackageDefinition, etcdServiceDefinition, recipeServiceDefinition, ETCD_PROTO_LOADER_OPTIONS } from './etcd-proto.js';
export { GRPC_FRONTEND_OPTIONS, GRPC_LOGGER } from './tokens.js';
