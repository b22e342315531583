import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The .proto files every frontend loads, relative to core/proto. */
export const ETCD_PROTO_FILES = ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'] as const;

/**
 * How @grpc/proto-loader must load the protos to give messages in the etcd-wire types' shape:
 * proto field names, 64-bit integers as decimal strings, bytes as Buffers, enums as numbers,
 * defaults filled in, and the set member of each oneof named. Every frontend and client uses these.
 */
export const ETCD_PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const;

/**
 * The directory holding etcd's .proto files (core/proto, shipped with @cairn/core). Found
 * relative to this module, which runs from src/etcd-wire (sources) or dist/src/etcd-wire (built).
 */
export function etcdProtoDir(): string {
  for (const relative of ['../../proto', '../../../proto']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}/etcdserverpb/rpc.proto`)) return dir;
  }
  throw new Error('@cairn/core: cannot find proto/etcdserverpb/rpc.proto beside the package');
}
