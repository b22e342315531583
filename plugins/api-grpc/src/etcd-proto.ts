import * as protoLoader from '@grpc/proto-loader';
import { ETCD_PROTO_FILES, ETCD_PROTO_LOADER_OPTIONS, etcdProtoDir } from '@cairn/core';

let cached: protoLoader.PackageDefinition | undefined;

/** etcd's v3 API (etcdserverpb with mvccpb and authpb) and its Lock and Election services, loaded once. */
export function etcdPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync([...ETCD_PROTO_FILES], {
    ...ETCD_PROTO_LOADER_OPTIONS,
    includeDirs: [etcdProtoDir()],
  });
  return cached;
}

/** The gRPC service definition of etcd's Lock (`v3lockpb.Lock`) or Election (`v3electionpb.Election`) service. */
export function recipeServiceDefinition(service: 'v3lockpb.Lock' | 'v3electionpb.Election'): protoLoader.ServiceDefinition {
  const definition = etcdPackageDefinition()[service];
  if (definition === undefined || 'format' in definition) throw new Error(`${service} is not a service in the loaded protos`);
  return definition as protoLoader.ServiceDefinition;
}

/** The gRPC service definition of one etcd service, e.g. `etcdServiceDefinition('KV')`. */
export function etcdServiceDefinition(service: 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth'): protoLoader.ServiceDefinition {
  const definition = etcdPackageDefinition()[`etcdserverpb.${service}`];
  if (definition === undefined || 'format' in definition) throw new Error(`etcdserverpb.${service} is not a service in rpc.proto`);
  return definition as protoLoader.ServiceDefinition;
}
