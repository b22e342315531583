import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The .proto files every frontend loads, relative to core/proto. */
export const ETCD_PROTO_FILES = ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'] as const;

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
