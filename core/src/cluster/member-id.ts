import { createHash } from 'node:crypto';

/**
 * etcd's member ID: the first 8 bytes (big-endian) of sha1(sorted peer URLs + cluster token),
 * as 16 hex digits. Deterministic, so every founding member computes the same IDs.
 */
export function memberIdOf(peerUrls: readonly string[], clusterToken: string, salt = ''): string {
  const hash = createHash('sha1')
    .update([...peerUrls].sort().join(''))
    .update(clusterToken)
    .update(salt)
    .digest();
  return hash.subarray(0, 8).toString('hex');
}

/** The cluster ID: the first 8 bytes of sha1 over the sorted member IDs. */
export function clusterIdOf(memberIds: readonly string[]): string {
  const hash = createHash('sha1');
  for (const id of [...memberIds].sort()) hash.update(Buffer.from(id, 'hex'));
  return hash.digest().subarray(0, 8).toString('hex');
}
