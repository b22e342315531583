import { createHash } from 'node:crypto';

/**
 * etcd's member ID: the first 8 bytes (big-endian) of sha1(sorted peer URLs + cluster token + salt),
 * as 16 hex digits. A founding member's has no salt, so every founding member computes the same
 * IDs from `--initial-cluster` (and they match etcd's for the same flags).
 */
export function memberIdOf(peerUrls: readonly string[], clusterToken: string, salt = ''): string {
  const hash = createHash('sha1')
    .update([...peerUrls].sort().join(''))
    .update(clusterToken)
    .update(salt)
    .digest();
  return hash.subarray(0, 8).toString('hex');
}

/**
 * The ID `member add` gives a new member: etcd mixes in the time (Unix seconds, in decimal), so a
 * member added again at the peer URLs of a removed one gets a new ID. The member cannot compute it;
 * it learns it from the cluster when it starts with `--initial-cluster-state existing`.
 */
export function addedMemberIdOf(peerUrls: readonly string[], clusterToken: string, nowMs: number): string {
  return memberIdOf(peerUrls, clusterToken, String(Math.floor(nowMs / 1000)));
}

/** The cluster ID: the first 8 bytes of sha1 over the sorted member IDs. */
export function clusterIdOf(memberIds: readonly string[]): string {
  const hash = createHash('sha1');
  for (const id of [...memberIds].sort()) hash.update(Buffer.from(id, 'hex'));
  return hash.digest().subarray(0, 8).toString('hex');
}
