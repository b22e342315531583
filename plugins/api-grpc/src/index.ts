export { default } from './plugin.js';
export type { GrpcPluginOptions } from './plugin.js';
export { GrpcFrontend, GRPC_OVERHEAD_BYTES, type GrpcFrontendOptions, type ListenAddress } from './grpc-frontend.js';
export { NotFoundHttp1Route, type Http1Route } from './http1-route.js';
export { parseListenAddress } from './listen-address.js';
export { etcdProtoDir, etcdPackageDefinition, etcdServiceDefinition, recipeServiceDefinition, ETCD_PROTO_LOADER_OPTIONS } from './etcd-proto.js';
export { GRPC_FRONTEND_OPTIONS, GRPC_HTTP1_ROUTE, GRPC_LOGGER } from './tokens.js';
