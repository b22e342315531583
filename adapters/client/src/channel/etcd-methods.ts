import * as protoLoader from '@grpc/proto-loader';
import { ETCD_PROTO_FILES, ETCD_PROTO_LOADER_OPTIONS, etcdProtoDir } from '@cairn/core';
import type { EtcdServiceName } from './etcd-channel.js';

/** The protobuf service of each name a channel takes. */
const SERVICE_PATHS: Readonly<Record<EtcdServiceName, string>> = {
  KV: 'etcdserverpb.KV',
  Watch: 'etcdserverpb.Watch',
  Lease: 'etcdserverpb.Lease',
  Cluster: 'etcdserverpb.Cluster',
  Maintenance: 'etcdserverpb.Maintenance',
  Auth: 'etcdserverpb.Auth',
  Lock: 'v3lockpb.Lock',
  Election: 'v3electionpb.Election',
};

export type EtcdMethodDefinition = protoLoader.MethodDefinition<object, object>;

let loaded: protoLoader.PackageDefinition | undefined;

/** etcd's protos (core's files, in the etcd-wire message shape), loaded once per process. */
export function etcdPackageDefinition(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync([...ETCD_PROTO_FILES], { ...ETCD_PROTO_LOADER_OPTIONS, includeDirs: [etcdProtoDir()] });
  return loaded;
}

/** `etcdserverpb.KV` for `KV`; the name itself for a service the protos do not have. */
export function etcdServicePath(service: EtcdServiceName): string {
  return (SERVICE_PATHS[service] as string | undefined) ?? service;
}

/** One RPC's definition (its serializers, whether it streams), or undefined when the protos have no such method. */
export function etcdMethodDefinition(service: EtcdServiceName, method: string): EtcdMethodDefinition | undefined {
  const definition = etcdPackageDefinition()[etcdServicePath(service)];
  if (definition === undefined || 'format' in definition || !Object.hasOwn(definition, method)) return undefined;
  return (definition as protoLoader.ServiceDefinition)[method] as EtcdMethodDefinition;
}
