import { execFile } from 'node:child_process';
import { ETCDCTL_BIN } from './processes.js';

export interface EtcdctlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the real etcdctl (v3 API) against one endpoint, optionally feeding stdin. */
export function etcdctl(endpoint: string, args: readonly string[], stdin?: string): Promise<EtcdctlResult> {
  return new Promise((done) => {
    const child = execFile(
      ETCDCTL_BIN,
      [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=10s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** etcdctl's output with what differs between any two members blanked: IDs, terms and raft indexes. */
export function normalize(output: string): string {
  return output.replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":0').replace(/\b(cluster_id|member_id|raft_term):\d+/g, '$1:0');
}
